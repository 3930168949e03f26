// The operator's console (npm run console): a server-rendered Fastify app over the datamart, the model bank and
// Temporal. Pages read files per request (nothing cached beyond a request); actions go through `ConsoleTemporal`,
// which scripts/lib/console-temporal.ts implements with the same Temporal signals, updates and workflows the command
// line uses, so this module never imports a workflow. Every response carries a Server-Timing header (total server time).
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { z } from 'zod';
import type { Config } from '../../lib/config.js';
import { datamart, modelBank } from '../../lib/layout.js';
import { monthSchema, type Month } from '../../lib/months.js';
import { thresholdsFrom } from '../monitoring/status.js';
import {
  partitionMonths,
  readApplication,
  readDecisions,
  readModels,
  readMonitoringRows,
  readMonthLineage,
  readMonthPredictions,
  readPromotions,
} from './data.js';
import {
  actionsPage,
  applicationPage,
  comparePage,
  CONSOLE_SCRIPT,
  errorPage,
  lineagePage,
  loginPage,
  modelPage,
  modelsPage,
  monitoringPage,
  type ActionOutcome,
  type LifecycleView,
  type PageContext,
  type WorkflowRun,
} from './pages.js';

export type { LifecycleView, WorkflowRun } from './pages.js';

/** What the console needs of Temporal: runs from the visibility API, the lifecycle's status, and the four actions. */
export interface ConsoleTemporal {
  namespace: string;
  /** Runs matching a visibility query (e.g. `SnapshotMonth = '2024-03'`), newest first. */
  listRuns(query: string, limit: number): Promise<WorkflowRun[]>;
  status(): Promise<LifecycleView>;
  /** `force`: promote a model once rolled back or rejected although the gate refuses it (logged as forced). */
  promote(request: { modelId: string; reason: string; by: string; force?: boolean }): Promise<LifecycleView>;
  rollback(request: { reason: string; by: string }): Promise<LifecycleView>;
  forceRetrain(request: { reason: string; by: string; asOf?: Month }): Promise<{ workflowId: string }>;
  runMonitoring(request: { asOf: Month; modelId?: string; reason: string; by: string }): Promise<{ workflowId: string }>;
}

export interface ConsoleOptions {
  config: Pick<Config, 'DATAMART_DIR' | 'MODEL_BANK_DIR' | 'CONSOLE_TOKEN' | 'TEMPORAL_UI_URL' | 'PSI_WARNING' | 'PSI_CRITICAL' | 'AUC_CRITICAL' | 'ESTIMATED_AUC_MARGIN'>;
  temporal: ConsoleTemporal | null;
  logger?: boolean;
}

/** Loopback names and addresses: a console bound to one of them is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const TOKEN_COOKIE = 'console_token';
const STATUS_TIMEOUT_MS = 2000;

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** The innermost message of an error and its causes (Temporal wraps an update's rejection in a few layers). */
export function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let current = (error as { cause?: unknown })?.cause; current; current = (current as { cause?: unknown }).cause) {
    if (current instanceof Error && current.message) message = current.message;
  }
  return message;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** The browser builds of vega, vega-lite and vega-embed, from node_modules (no CDN: the console works offline). */
function assetFiles(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const packageDir = (name: string) => {
    const main = require.resolve(name);
    return main.slice(0, main.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
  };
  return {
    'vega.min.js': join(packageDir('vega'), 'build', 'vega.min.js'),
    'vega-lite.min.js': join(packageDir('vega-lite'), 'build', 'vega-lite.min.js'),
    'vega-embed.min.js': join(dirname(require.resolve('vega-embed')), 'vega-embed.min.js'),
  };
}

const required = (what: string) => z.string({ error: `a ${what} is required` }).trim().min(1, `a ${what} is required`).max(2000);
const who = { reason: required('reason'), by: required('name (who acts)') };
const actionSchemas = {
  promote: z.object({ model: z.string({ error: 'choose a model' }).trim().min(1, 'choose a model'), force: z.literal('on').optional(), ...who }),
  rollback: z.object(who),
  retrain: z.object({ asOf: z.union([z.literal(''), monthSchema]).optional(), ...who }),
  monitor: z.object({ asOf: monthSchema, model: z.string().trim().optional(), ...who }),
};

export async function buildConsoleApp(options: ConsoleOptions): Promise<FastifyInstance> {
  const { config, temporal } = options;
  const app = Fastify({ logger: options.logger ? { level: 'info' } : false });
  await app.register(formbody);
  const assets = assetFiles();
  const token = config.CONSOLE_TOKEN;

  // Server time of every response, for the ≤ 300 ms page budget (read it in the browser's network panel or with curl -i).
  app.addHook('onRequest', async (request) => {
    (request as FastifyRequest & { startedAt: bigint }).startedAt = process.hrtime.bigint();
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const started = (request as FastifyRequest & { startedAt?: bigint }).startedAt;
    if (started !== undefined) {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      reply.header('Server-Timing', `total;dur=${ms.toFixed(1)}`);
      if (options.logger) request.log.info({ url: request.url, serverMs: Number(ms.toFixed(1)) }, 'served');
    }
    return payload;
  });

  // With a token: every page but the sign-in and the static assets needs it (cookie or Authorization: Bearer).
  app.addHook('preHandler', async (request, reply) => {
    if (request.method === 'POST') {
      // Cross-site form posts are refused: an action comes from the console's own pages.
      const origin = request.headers.origin;
      if (origin && origin !== 'null' && new URL(origin).host !== request.headers.host) {
        return reply.code(403).type('text/plain').send('cross-origin request refused');
      }
    }
    if (!token || request.url.startsWith('/assets/') || request.url.startsWith('/login')) return;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (sameSecret(bearer, token) || sameSecret(cookie(request, TOKEN_COOKIE), token)) return;
    if (request.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`);
    return reply.code(401).type('text/plain').send('operator token required');
  });

  const context = async (): Promise<PageContext> => {
    const { registry } = await readModels(config.MODEL_BANK_DIR);
    return { uiUrl: config.TEMPORAL_UI_URL, namespace: temporal?.namespace ?? 'default', production: registry.production };
  };
  const page = (reply: FastifyReply, body: string, code = 200) => reply.code(code).type('text/html; charset=utf-8').send(body);

  app.get('/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    if (name === 'console.js') return reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'no-cache').send(CONSOLE_SCRIPT);
    const file = assets[name];
    if (!file) return reply.code(404).send('not found');
    return reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(await readFile(file));
  });

  app.get('/', async (_request, reply) => reply.redirect('/models'));

  app.get('/login', async (request, reply) => {
    const next = String((request.query as { next?: string }).next ?? '/models');
    return page(reply, loginPage(await context(), false, next.startsWith('/') ? next : '/models'));
  });
  app.post('/login', async (request, reply) => {
    const body = (request.body ?? {}) as { token?: string; next?: string };
    const next = typeof body.next === 'string' && body.next.startsWith('/') && !body.next.startsWith('//') ? body.next : '/models';
    if (!token || !sameSecret(body.token, token)) return page(reply, loginPage(await context(), true, next), 401);
    reply.header('Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
    return reply.redirect(next, 303);
  });

  app.get('/models', async (_request, reply) => {
    const [{ models }, promotions] = await Promise.all([readModels(config.MODEL_BANK_DIR), readPromotions(config.DATAMART_DIR)]);
    return page(reply, modelsPage(await context(), models, promotions));
  });

  app.get('/models/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const [{ models }, promotions] = await Promise.all([readModels(config.MODEL_BANK_DIR), readPromotions(config.DATAMART_DIR)]);
    const model = models.find((m) => m.metadata.model_id === id);
    if (!model) return page(reply, errorPage(await context(), 'Unknown model', `No model ${id} in the model bank.`), 404);
    const csv = await readFile(modelBank.file(config.MODEL_BANK_DIR, id, 'feature_importance.csv'), 'utf8').catch(() => '');
    const importance = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','))
      .filter((cells) => cells.length >= 2)
      .map((cells) => ({ feature: cells[0], importance: Number(cells[cells.length - 1]) }))
      .sort((a, b) => b.importance - a.importance);
    return page(reply, modelPage(await context(), model, promotions, importance));
  });

  app.get('/compare', async (request, reply) => {
    const { a, b } = request.query as { a?: string; b?: string };
    const [{ models }, promotions] = await Promise.all([readModels(config.MODEL_BANK_DIR), readPromotions(config.DATAMART_DIR)]);
    const first = models.find((m) => m.metadata.model_id === a);
    const second = models.find((m) => m.metadata.model_id === b);
    if (!first || !second || first === second) {
      return page(reply, errorPage(await context(), 'Compare two models', 'Choose two different registered models (?a=ID&b=ID).'), 400);
    }
    const [rowsA, rowsB] = await Promise.all([readMonitoringRows(config.DATAMART_DIR, first.metadata.model_id), readMonitoringRows(config.DATAMART_DIR, second.metadata.model_id)]);
    return page(reply, comparePage(await context(), first, second, rowsA, rowsB, promotions));
  });

  app.get('/monitoring', async (request, reply) => {
    const query = request.query as { model?: string; month?: string };
    const month = query.month && monthSchema.safeParse(query.month).success ? query.month : null;
    const [{ models, registry }, decisions] = await Promise.all([readModels(config.MODEL_BANK_DIR), readDecisions(config.DATAMART_DIR)]);
    const model = models.find((m) => m.metadata.model_id === (query.model || registry.production)) ?? models[0] ?? null;
    const rows = model ? await readMonitoringRows(config.DATAMART_DIR, model.metadata.model_id) : null;
    const predictions = model && month ? await readMonthPredictions(config.DATAMART_DIR, model.metadata.model_id, month) : null;
    return page(reply, monitoringPage(await context(), { models, model, rows, decisions, month, predictions, thresholds: thresholdsFrom(config), estimatedAucMargin: config.ESTIMATED_AUC_MARGIN }));
  });

  app.get('/lineage', async (request, reply) => {
    const months = await partitionMonths(datamart.featureStore(config.DATAMART_DIR));
    const asked = (request.query as { month?: string }).month;
    const month = asked && months.includes(asked) ? asked : months.at(-1);
    if (!month) return page(reply, lineagePage(await context(), null, months, new Map(), null));
    const lineage = await readMonthLineage(config.DATAMART_DIR, config.MODEL_BANK_DIR, month);
    const writers = new Map<string, WorkflowRun | null>();
    let problem: string | null = null;
    if (temporal) {
      try {
        // The run that wrote a partition: a run of the month (SnapshotMonth) whose span covers the file's write time,
        // the shortest such run (a month's child rather than the backfill around it).
        const runs = await withTimeout(temporal.listRuns(`SnapshotMonth = '${month}'`, 100), STATUS_TIMEOUT_MS, 'Temporal visibility');
        for (const node of lineage.nodes) {
          if (!node.path || !node.writtenAt) continue;
          const covering = runs
            .filter((run) => run.startTime <= node.writtenAt! && (run.closeTime === null || node.writtenAt! <= run.closeTime))
            .sort((x, y) => span(x) - span(y));
          writers.set(node.name, covering[0] ?? null);
        }
      } catch (error) {
        problem = innermostMessage(error);
      }
    } else problem = 'no Temporal connection';
    return page(reply, lineagePage(await context(), lineage, months, writers, problem));
  });

  app.get('/application', async (request, reply) => {
    const loanId = (request.query as { loan_id?: string }).loan_id?.trim() || null;
    const view = loanId ? await readApplication(config.DATAMART_DIR, loanId) : null;
    return page(reply, applicationPage(await context(), loanId, view));
  });

  const lifecycle = async (): Promise<{ status: LifecycleView | null; problem: string | null }> => {
    if (!temporal) return { status: null, problem: 'no Temporal connection' };
    try {
      return { status: await withTimeout(temporal.status(), STATUS_TIMEOUT_MS, 'model-lifecycle status'), problem: null };
    } catch (error) {
      return { status: null, problem: innermostMessage(error) };
    }
  };
  const actions = async (reply: FastifyReply, outcome: ActionOutcome | null, code = 200) => {
    const [{ models }, { status, problem }] = await Promise.all([readModels(config.MODEL_BANK_DIR), lifecycle()]);
    return page(reply, actionsPage(await context(), models, status, problem, outcome), code);
  };
  app.get('/actions', async (_request, reply) => actions(reply, null));

  const act = <S extends z.ZodType>(name: keyof typeof actionSchemas, schema: S, run: (input: z.output<S>) => Promise<ActionOutcome>) =>
    app.post(`/actions/${name}`, async (request, reply) => {
      const parsed = schema.safeParse(request.body ?? {});
      if (!parsed.success) {
        const message = parsed.error.issues.map((issue) => issue.message).join('; ');
        request.log.warn({ action: name, refused: message }, 'action refused');
        return actions(reply, { ok: false, message }, 400);
      }
      if (!temporal) return actions(reply, { ok: false, message: 'no Temporal connection: start the server and a worker' }, 503);
      try {
        const outcome = await run(parsed.data);
        request.log.info({ action: name, input: parsed.data, outcome }, 'action done');
        return actions(reply, outcome);
      } catch (error) {
        return actions(reply, { ok: false, message: innermostMessage(error) }, 409);
      }
    });
  act('promote', actionSchemas.promote, async ({ model, reason, by, force }) => {
    const status = await temporal!.promote({ modelId: model, reason, by, force: force === 'on' });
    return { ok: true, message: `${by} promoted ${model}${force ? ' (forced)' : ''}: production is now ${status.production ?? 'none'} (${reason})`, workflowId: 'model-lifecycle' };
  });
  act('rollback', actionSchemas.rollback, async ({ reason, by }) => {
    const status = await temporal!.rollback({ reason, by });
    return { ok: true, message: `${by} rolled back: production is now ${status.production ?? 'none'} (${reason})`, workflowId: 'model-lifecycle' };
  });
  act('retrain', actionSchemas.retrain, async ({ asOf, reason, by }) => {
    const { workflowId } = await temporal!.forceRetrain({ reason, by, asOf: asOf || undefined });
    return { ok: true, message: `${by} requested a retraining${asOf ? ` as of ${asOf}` : ''} (${reason}); model-lifecycle runs it`, workflowId };
  });
  act('monitor', actionSchemas.monitor, async ({ asOf, model, reason, by }) => {
    const { workflowId } = await temporal!.runMonitoring({ asOf, modelId: model || undefined, reason, by });
    return { ok: true, message: `${by} started monitoring as of ${asOf}${model ? ` of ${model}` : ''} (${reason})`, workflowId };
  });

  app.setErrorHandler(async (error, request, reply) => {
    request.log.error({ err: error }, 'page failed');
    return page(reply, errorPage(await context().catch(() => ({ uiUrl: config.TEMPORAL_UI_URL, namespace: 'default', production: null })), 'Error', innermostMessage(error)), 500);
  });
  return app;
}

function span(run: WorkflowRun): number {
  return (run.closeTime ? Date.parse(run.closeTime) : Date.now()) - Date.parse(run.startTime);
}

export interface ConsoleServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Builds the app and listens; refuses to listen beyond loopback without a token (the console can promote models). */
export async function startConsole(options: ConsoleOptions & { host: string; port: number }): Promise<ConsoleServer> {
  if (!isLoopbackHost(options.host) && !options.config.CONSOLE_TOKEN) {
    throw new Error(`CONSOLE_HOST=${options.host} is not a loopback address: set CONSOLE_TOKEN (at least 16 characters) so that only operators can act`);
  }
  const app = await buildConsoleApp(options);
  const url = await app.listen({ host: options.host, port: options.port });
  return { app, url, close: () => app.close() };
}
