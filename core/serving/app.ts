// The online scoring API (Fastify): POST /v1/score, GET /v1/model, /healthz, /readyz, /metrics, and its OpenAPI 3.1
// document at /openapi.json (docs page at /docs), generated from the zod schemas that validate the requests
// (request.ts) and type the answers (schemas.ts). /v1 routes require an API key when keys are configured
// (api-keys.ts); every answer carries its request id (x-request-id), which the log lines about it carry too. Features come from
// the batch path's SQL (online-features.ts), scores from the production model through core/scoring, the model
// follows registry.json without a restart (model-holder.ts), online scores go to gold/predictions_online
// (online-predictions.ts). Request bodies hold personal data: they are never logged, and error messages name the
// field and the reason, never the value.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ConfigError, type Config } from '../../lib/config.js';
import { isLoopbackHost, keyMatches, parseApiKeyHashes, presentedKey } from './api-keys.js';
import { predictedDefault, riskBand } from '../scoring/risk-bands.js';
import { scoreMatrix } from '../scoring/score-rows.js';
import { encodeRows, KEY_COLUMNS } from '../features/preprocessor.js';
import { explainMatrix, missingMaskOfRows, topReasons } from '../explain/contributions.js';
import { servingMetrics, type ServingMetrics } from './metrics.js';
import { microBatcher } from './micro-batcher.js';
import { ModelHolder } from './model-holder.js';
import { conflictKeys, OnlineFeatureStore, placeApplication, type PlacedApplication } from './online-features.js';
import { z } from 'zod';
import { OnlinePredictionSink } from './online-predictions.js';
import { DatamartMonths } from './month-bounds.js';
import { MAX_CLICKSTREAM_ROWS, MAX_FIELD_CHARS, RequestProblem, scoreRequestSchema } from './request.js';
import {
  batchAnswerSchema, errorSchema, healthAnswerSchema, modelAnswerSchema, notReadyAnswerSchema, readyAnswerSchema, rejectedAnswerSchema,
  scoredApplicationSchema, type RejectedApplication, type ScoredApplication,
} from './schemas.js';

export type { RejectedApplication, ScoredApplication } from './schemas.js';

export interface ServeOptions {
  datamartDir: string;
  modelBankDir: string;
  host: string;
  /** 0 picks a free port (tests, bench). */
  port: number;
  bodyLimitBytes: number;
  maxBatch: number;
  maxQueue: number;
  /** Micro-batches computed at once (DuckDB connections of the feature store). */
  featureConnections: number;
  /** Threads of the feature store's DuckDB for micro-batches of several applications. */
  featureThreads: number;
  /** Threads of the DuckDB for a request alone on the server (its own DuckDB when it differs from featureThreads). */
  loneRequestThreads: number;
  registryPollMs: number;
  flushRows: number;
  flushSeconds: number;
  maxEventLoopDelayMs: number;
  logLevel: Config['SERVE_LOG_LEVEL'];
  /** Hashed API keys (SERVE_API_KEYS); required when `host` is beyond loopback. */
  apiKeys?: string;
  /** Where logs go (default stdout); tests read them to check that no request data is logged. */
  logStream?: NodeJS.WritableStream;
}

type Outcome = { ok: true; scored: ScoredApplication } | { ok: false; rejected: RejectedApplication };

interface Job {
  placed: PlacedApplication;
  requestedAt: Date;
}

export interface ScoringServer {
  app: FastifyInstance;
  url: string;
  holder: ModelHolder;
  metrics: ServingMetrics;
  /** Every route registered (method, URL, whether it is left out of the OpenAPI document). */
  routes: ReadonlyArray<{ method: string; url: string; hidden: boolean }>;
  /** Stops taking requests, finishes those in flight, flushes online scores, releases DuckDB. */
  close(): Promise<void>;
}

class NoModel extends Error {}

/** Request ids a caller may choose (x-request-id): short and plain, so they are safe in logs and headers. */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function startScoringServer(options: ServeOptions): Promise<ScoringServer> {
  const apiKeyHashes = parseApiKeyHashes(options.apiKeys);
  if (apiKeyHashes.length === 0 && !isLoopbackHost(options.host)) {
    throw new ConfigError(
      `SERVE_HOST=${options.host} is reachable beyond this machine: set SERVE_API_KEYS (hashed keys, npm run serve-key) or listen on 127.0.0.1`,
    );
  }
  const app = Fastify({
    logger: { level: options.logLevel, ...(options.logStream ? { stream: options.logStream } : {}) },
    // The caller's x-request-id when it is a plain token (a gateway's id ties its logs to ours), else a new UUID.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && CALLER_REQUEST_ID.test(given) ? given : randomUUID();
    },
    // No per-request log lines: at thousands of requests a second they cost more than scoring.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: options.bodyLimitBytes,
    // JSON.parse makes `__proto__` and `constructor` plain own keys; zod's strict objects then refuse them (400 naming
    // the key). Fastify's default scan of every body for them (secure-json-parse) cost more than zod's whole check.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
  });
  // Every route with its method, for the test that checks the OpenAPI document describes each one.
  const routes: Array<{ method: string; url: string; hidden: boolean }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide) });
  });
  app.setValidatorCompiler(validatorCompiler);
  // Answers are serialized with JSON.stringify: their types are checked against the zod schemas at compile time
  // (ZodTypeProvider), and the same schemas still describe them in /openapi.json. fastify-type-provider-zod's
  // serializer parsed every answer with zod before stringifying it, three times JSON.stringify's cost per answer.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const metrics = servingMetrics();
  const store = await OnlineFeatureStore.open({
    connections: options.featureConnections,
    threads: options.featureThreads,
    loneRequestThreads: options.loneRequestThreads,
    onQuery: (duckdb) => metrics.featureQueries.inc({ duckdb }),
  });
  const sink = new OnlinePredictionSink(options.datamartDir, {
    flushRows: options.flushRows,
    flushSeconds: options.flushSeconds,
    onError: (error) => {
      metrics.errors.inc({ kind: 'online_sink' });
      app.log.error({ err: error }, 'writing online predictions failed; rows kept for the next flush');
    },
  });
  const holder = new ModelHolder(options.modelBankDir, {
    onSwap: (from, to) => {
      metrics.model.reset();
      metrics.model.set({ model_id: to.modelId }, 1);
      if (from) metrics.swaps.inc();
      app.log.info({ from, to: to.modelId }, from ? 'model swapped' : 'model loaded');
    },
    onLoadFailure: (failure) => {
      metrics.errors.inc({ kind: 'model_load' });
      app.log.error({ modelId: failure.modelId, reason: failure.message }, 'production model failed to load; the previous model keeps serving');
    },
  });
  await holder.check();
  holder.start(options.registryPollMs, (error) => app.log.error({ err: error }, 'registry poll failed'));

  // Requests received and not yet answered (or abandoned), on any route: 'close' fires on the response either way.
  let requestsInFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    requestsInFlight++;
    reply.raw.once('close', () => requestsInFlight--);
    void reply.header('x-request-id', request.id);
  });

  const batcher = microBatcher<Job, Outcome>({
    maxBatch: options.maxBatch,
    concurrency: store.concurrency,
    keysOf: (job) => conflictKeys(job.placed),
    onBatch: (size) => metrics.batchSize.observe(size),
    run: async (jobs) => {
      // Alone on the server, the request's features get the lone-request DuckDB's threads (the other core is free).
      const computed = await store.compute(jobs.map((job) => job.placed), { alone: requestsInFlight === 1 });
      const model = holder.current; // read once: the whole batch is scored by one model
      if (!model) throw new NoModel('no verified production model is loaded');
      const withFeatures = computed.flatMap((c) => (c.ok ? [c.features] : []));
      const { preprocessor } = model.model;
      const matrix = encodeRows(preprocessor, withFeatures);
      const probabilities = await scoreMatrix(model.scorer, matrix);
      // Checked before anything is answered or recorded: a failed batch leaves no online score behind.
      if (!probabilities.every(Number.isFinite)) throw new Error(`model ${model.modelId} gave a non-finite score`);
      // The reasons come from the same model's booster the batch explanations use, on the same encoded rows.
      const explanations = await explainMatrix(model.booster(), preprocessor, matrix, missingMaskOfRows(preprocessor, withFeatures));
      const threshold = model.model.metadata.threshold;
      const scoredAt = new Date();
      let next = 0;
      return jobs.map((job, index): Outcome => {
        const features = computed[index];
        const loanId = job.placed.application.loan.loan_id?.trim() || null;
        if (!features.ok) return { ok: false, rejected: { loan_id: loanId, error: features.reason, rejected_records: features.rejected } };
        const explained = next;
        const probability = probabilities[next++];
        const row = features.features;
        const scored: ScoredApplication = {
          loan_id: String(row.loan_id),
          customer_id: String(row.Customer_ID),
          application_month: job.placed.month,
          model_id: model.modelId,
          default_probability: probability,
          predicted_default: predictedDefault(probability, threshold),
          risk_band: riskBand(probability, threshold),
          threshold,
          reasons: topReasons(explanations, explained),
          features: Object.fromEntries(Object.entries(row).filter(([name]) => !(KEY_COLUMNS as readonly string[]).includes(name))),
          ignored_clickstream_rows: job.placed.ignoredClickstreamRows,
          rejected_records: features.rejected,
        };
        metrics.scored.inc({ model_id: model.modelId });
        sink.append({
          loanId: scored.loan_id,
          customerId: scored.customer_id,
          month: scored.application_month,
          modelId: scored.model_id,
          probability,
          predictedDefault: scored.predicted_default,
          riskBand: riskBand(probability, threshold),
          requestedAt: job.requestedAt,
          scoredAt,
        });
        return { ok: true, scored };
      });
    },
  });

  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    pressureHandler: (_request, reply, type, value) => {
      metrics.errors.inc({ kind: 'overloaded' });
      void reply
        .code(503)
        .header('retry-after', '1')
        .send({ error: 'overloaded', message: `server under pressure (${type} ${value}); retry shortly` });
    },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'credit-pipeline scoring API',
        version: process.env.npm_package_version ?? '0.1.0',
        description:
          `Scores loan applications with the production model of the model bank. Limits: request bodies up to ${options.bodyLimitBytes} bytes ` +
          `(413 is answered as 400 naming the limit), at most ${options.maxBatch} applications per request, ${MAX_CLICKSTREAM_ROWS} clickstream ` +
          `rows per application, ${MAX_FIELD_CHARS} characters per field; more than ${options.maxQueue} applications waiting: 503 with Retry-After.`,
      },
      components: {
        securitySchemes: {
          bearerKey: { type: 'http', scheme: 'bearer', description: 'An API key (SERVE_API_KEYS holds its sha256)' },
          headerKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // /v1 routes need a key when keys are configured; health, readiness, metrics and the API's description do not.
  const requiresKey = (url: string) => apiKeyHashes.length > 0 && url.startsWith('/v1/');
  app.addHook('onRequest', async (request, reply) => {
    if (!requiresKey(request.url)) return;
    const key = presentedKey(request.headers);
    if (key !== null && keyMatches(key, apiKeyHashes)) return;
    metrics.errors.inc({ kind: 'unauthorized' });
    request.log.warn({ route: request.routeOptions.url ?? request.url, presented: key !== null }, 'request refused: no valid API key');
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'unauthorized', message: key === null ? 'an API key is required (Authorization: Bearer <key> or X-API-Key)' : 'the API key is not valid', request_id: request.id });
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
    // One line per failed request, with its request id (no per-request lines for successes: see logController).
    if (reply.statusCode >= 400) request.log.info({ route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request answered with an error');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    const request_id = request.id;
    if (hasZodFastifySchemaValidationErrors(error)) {
      // The request schema's issues as `path: reason` (values are never echoed: they are personal data).
      metrics.errors.inc({ kind: 'bad_request' });
      const message = error.validation
        .slice(0, 10)
        .map((issue) => `${issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'body'}: ${issue.message}`)
        .join('; ');
      return reply.code(400).send({ error: 'bad_request', message, request_id });
    }
    if (status === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      metrics.errors.inc({ kind: 'bad_request' });
      return reply.code(400).send({ error: 'bad_request', message: `body: larger than the ${options.bodyLimitBytes}-byte limit`, request_id });
    }
    if (status >= 400 && status < 500) {
      metrics.errors.inc({ kind: 'bad_request' });
      const message = error instanceof SyntaxError || /JSON/i.test(error.message) ? `body: malformed JSON (${error.message})` : error.message;
      return reply.code(400).send({ error: 'bad_request', message, request_id });
    }
    metrics.errors.inc({ kind: 'internal' });
    request.log.error({ err: { message: error.message, stack: error.stack } }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error', request_id });
  });

  const requestSchema = scoreRequestSchema(options.maxBatch);
  const datamartMonths = new DatamartMonths(options.datamartDir, options.registryPollMs);
  await datamartMonths.refresh();
  const api = app.withTypeProvider<ZodTypeProvider>();
  const security: Array<Record<string, string[]>> = apiKeyHashes.length > 0 ? [{ bearerKey: [] }, { headerKey: [] }] : [];

  api.post('/v1/score', {
    schema: {
      summary: 'Score one application or a batch',
      description:
        `Raw source records of each application, every value the text of its CSV field. \`application\`: one, answered with its score; ` +
        `\`applications\`: up to ${options.maxBatch}, answered with one result each (a score or the reason it could not be scored).`,
      body: requestSchema,
      security,
      response: {
        200: z.union([scoredApplicationSchema, batchAnswerSchema]),
        400: errorSchema,
        401: errorSchema,
        422: rejectedAnswerSchema,
        503: errorSchema,
      },
    },
  }, async (request, reply) => {
    const requestedAt = new Date();
    const request_id = request.id;
    const body = request.body;
    const single = body.application !== undefined;
    const applications = body.application ? [body.application] : body.applications!;
    let placed: PlacedApplication[];
    const bounds = datamartMonths.current(holder.current?.model.metadata.windows);
    try {
      placed = applications.map((application, index) => placeApplication(application, single ? 'application' : `applications.${index}`, bounds));
    } catch (error) {
      if (!(error instanceof RequestProblem)) throw error;
      metrics.errors.inc({ kind: 'bad_request' });
      return reply.code(400).send({ error: 'bad_request', message: error.message, request_id });
    }
    if (!holder.current) return reply.code(503).send({ error: 'not_ready', message: 'no verified production model is loaded yet', request_id });
    if (batcher.queued + placed.length > options.maxQueue) {
      metrics.errors.inc({ kind: 'overloaded' });
      return reply.code(503).header('retry-after', '1').send({ error: 'overloaded', message: `more than ${options.maxQueue} applications queued; retry shortly`, request_id });
    }
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(placed.map((p) => batcher.submit({ placed: p, requestedAt })));
    } catch (error) {
      if (error instanceof NoModel) return reply.code(503).send({ error: 'not_ready', message: error.message, request_id });
      throw error;
    }
    if (single) {
      const [outcome] = outcomes;
      if (outcome.ok) return outcome.scored;
      metrics.errors.inc({ kind: 'rejected_application' });
      return reply.code(422).send({
        error: 'rejected_application',
        message: outcome.rejected.error,
        request_id,
        loan_id: outcome.rejected.loan_id,
        rejected_records: outcome.rejected.rejected_records,
      });
    }
    return { results: outcomes.map((outcome) => (outcome.ok ? outcome.scored : outcome.rejected)) };
  });

  api.get('/v1/model', { schema: { summary: 'The production model being served', security, response: { 200: modelAnswerSchema, 401: errorSchema } } }, async () => {
    const current = holder.current;
    const metadata = current?.model.metadata;
    return {
      model_id: current?.modelId ?? null,
      loaded_at: current?.loadedAt ?? null,
      model: metadata
        ? {
            family: metadata.family,
            as_of: metadata.as_of,
            windows: metadata.windows,
            metrics: metadata.metrics,
            threshold: metadata.threshold,
            features: metadata.features,
            created_at: metadata.created_at,
            model_onnx_sha256: metadata.artifacts_sha256['model.onnx'],
          }
        : null,
      last_load_failure: holder.lastFailure,
      follows: `registry.json production, polled every ${options.registryPollMs} ms`,
    };
  });

  api.get('/healthz', { schema: { summary: 'Liveness: the process answers', response: { 200: healthAnswerSchema } } }, async () => ({ status: 'ok' as const }));

  api.get('/readyz', { schema: { summary: 'Readiness: a verified production model is loaded', response: { 200: readyAnswerSchema, 503: notReadyAnswerSchema } } }, async (_request, reply) => {
    const current = holder.current;
    if (!current) return reply.code(503).send({ ready: false, reason: 'no verified production model is loaded yet', last_load_failure: holder.lastFailure });
    return { ready: true as const, model_id: current.modelId };
  });

  api.get('/openapi.json', { schema: { summary: 'This OpenAPI 3.1 document', hide: true } }, async () => app.swagger());

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const address = await app.listen({ host: options.host, port: options.port });
  let closing: Promise<void> | null = null;
  return {
    app,
    url: address,
    routes,
    holder,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await holder.stop();
        await app.close(); // in-flight requests finish first
        await batcher.drain();
        await sink.close();
        await store.close();
      })()),
  };
}

/** Server options from the validated configuration (lib/config.ts). */
export function serveOptionsFrom(config: Config): ServeOptions {
  return {
    datamartDir: config.DATAMART_DIR,
    modelBankDir: config.MODEL_BANK_DIR,
    host: config.SERVE_HOST,
    port: config.SERVE_PORT,
    bodyLimitBytes: config.SERVE_BODY_LIMIT_BYTES,
    maxBatch: config.SERVE_MAX_BATCH,
    maxQueue: config.SERVE_MAX_QUEUE,
    featureConnections: config.SERVE_FEATURE_CONNECTIONS,
    featureThreads: config.SERVE_FEATURE_THREADS,
    loneRequestThreads: config.SERVE_LONE_REQUEST_THREADS,
    registryPollMs: config.SERVE_REGISTRY_POLL_MS,
    flushRows: config.SERVE_FLUSH_ROWS,
    flushSeconds: config.SERVE_FLUSH_SECONDS,
    maxEventLoopDelayMs: config.SERVE_MAX_EVENT_LOOP_DELAY_MS,
    logLevel: config.SERVE_LOG_LEVEL,
    ...(config.SERVE_API_KEYS ? { apiKeys: config.SERVE_API_KEYS } : {}),
  };
}
