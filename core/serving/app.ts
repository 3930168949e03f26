// The online scoring API (Fastify): POST /v1/score, GET /v1/model, /healthz, /readyz, /metrics. Features come from
// the batch path's SQL (online-features.ts), scores from the production model through core/scoring, the model
// follows registry.json without a restart (model-holder.ts), online scores go to gold/predictions_online
// (online-predictions.ts). Request bodies hold personal data: they are never logged, and error messages name the
// field and the reason, never the value.
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../../lib/config.js';
import { predictedDefault, riskBand } from '../scoring/risk-bands.js';
import { scoreRows } from '../scoring/score-rows.js';
import { KEY_COLUMNS } from '../models/preprocessor.js';
import { servingMetrics, type ServingMetrics } from './metrics.js';
import { microBatcher } from './micro-batcher.js';
import { ModelHolder } from './model-holder.js';
import { conflictKeys, OnlineFeatureStore, placeApplication, type PlacedApplication, type RejectedRecord } from './online-features.js';
import { OnlinePredictionSink } from './online-predictions.js';
import { describeIssues, RequestProblem, scoreRequestSchema } from './request.js';
import { DatamartMonths } from './month-bounds.js';

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
  /** Where logs go (default stdout); tests read them to check that no request data is logged. */
  logStream?: NodeJS.WritableStream;
}

export interface ScoredApplication {
  loan_id: string;
  customer_id: string;
  application_month: string;
  model_id: string;
  default_probability: number;
  predicted_default: 0 | 1;
  risk_band: string;
  threshold: number;
  features: Record<string, unknown>;
  ignored_clickstream_rows: number;
  rejected_records: RejectedRecord[];
}

export interface RejectedApplication {
  loan_id: string | null;
  error: string;
  rejected_records: RejectedRecord[];
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
  /** Stops taking requests, finishes those in flight, flushes online scores, releases DuckDB. */
  close(): Promise<void>;
}

class NoModel extends Error {}

export async function startScoringServer(options: ServeOptions): Promise<ScoringServer> {
  const app = Fastify({
    logger: { level: options.logLevel, ...(options.logStream ? { stream: options.logStream } : {}) },
    // No per-request log lines: at thousands of requests a second they cost more than scoring.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // JSON.parse makes `__proto__` and `constructor` plain own keys; zod's strict objects then refuse them (400 naming
    // the key). Fastify's default scan of every body for them (secure-json-parse) cost more than zod's whole check.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
  });
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
  app.addHook('onRequest', async (_request, reply) => {
    requestsInFlight++;
    reply.raw.once('close', () => requestsInFlight--);
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
      const probabilities = await scoreRows(model, withFeatures);
      // Checked before anything is answered or recorded: a failed batch leaves no online score behind.
      if (!probabilities.every(Number.isFinite)) throw new Error(`model ${model.modelId} gave a non-finite score`);
      const threshold = model.model.metadata.threshold;
      const scoredAt = new Date();
      let next = 0;
      return jobs.map((job, index): Outcome => {
        const features = computed[index];
        const loanId = job.placed.application.loan.loan_id?.trim() || null;
        if (!features.ok) return { ok: false, rejected: { loan_id: loanId, error: features.reason, rejected_records: features.rejected } };
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

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      metrics.errors.inc({ kind: 'bad_request' });
      return reply.code(400).send({ error: 'bad_request', message: `body: larger than the ${options.bodyLimitBytes}-byte limit` });
    }
    if (status >= 400 && status < 500) {
      metrics.errors.inc({ kind: 'bad_request' });
      const message = error instanceof SyntaxError || /JSON/i.test(error.message) ? `body: malformed JSON (${error.message})` : error.message;
      return reply.code(400).send({ error: 'bad_request', message });
    }
    metrics.errors.inc({ kind: 'internal' });
    request.log.error({ err: { message: error.message, stack: error.stack } }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  const requestSchema = scoreRequestSchema(options.maxBatch);
  const datamartMonths = new DatamartMonths(options.datamartDir, options.registryPollMs);
  await datamartMonths.refresh();

  app.post('/v1/score', async (request, reply) => {
    const requestedAt = new Date();
    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) {
      metrics.errors.inc({ kind: 'bad_request' });
      return reply.code(400).send({ error: 'bad_request', message: describeIssues(parsed.error) });
    }
    const single = parsed.data.application !== undefined;
    const applications = parsed.data.application ? [parsed.data.application] : parsed.data.applications!;
    let placed: PlacedApplication[];
    const bounds = datamartMonths.current(holder.current?.model.metadata.windows);
    try {
      placed = applications.map((application, index) => placeApplication(application, single ? 'application' : `applications.${index}`, bounds));
    } catch (error) {
      if (!(error instanceof RequestProblem)) throw error;
      metrics.errors.inc({ kind: 'bad_request' });
      return reply.code(400).send({ error: 'bad_request', message: error.message });
    }
    if (!holder.current) return reply.code(503).send({ error: 'not_ready', message: 'no verified production model is loaded yet' });
    if (batcher.queued + placed.length > options.maxQueue) {
      metrics.errors.inc({ kind: 'overloaded' });
      return reply.code(503).header('retry-after', '1').send({ error: 'overloaded', message: `more than ${options.maxQueue} applications queued; retry shortly` });
    }
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(placed.map((p) => batcher.submit({ placed: p, requestedAt })));
    } catch (error) {
      if (error instanceof NoModel) return reply.code(503).send({ error: 'not_ready', message: error.message });
      throw error;
    }
    if (single) {
      const [outcome] = outcomes;
      if (outcome.ok) return outcome.scored;
      metrics.errors.inc({ kind: 'rejected_application' });
      return reply.code(422).send({ error: 'rejected_application', message: outcome.rejected.error, loan_id: outcome.rejected.loan_id, rejected_records: outcome.rejected.rejected_records });
    }
    return { results: outcomes.map((outcome) => (outcome.ok ? outcome.scored : outcome.rejected)) };
  });

  app.get('/v1/model', async () => {
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

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const current = holder.current;
    if (!current) return reply.code(503).send({ ready: false, reason: 'no verified production model is loaded yet', last_load_failure: holder.lastFailure });
    return { ready: true, model_id: current.modelId };
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const address = await app.listen({ host: options.host, port: options.port });
  let closing: Promise<void> | null = null;
  return {
    app,
    url: address,
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
  };
}
