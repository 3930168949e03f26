// Shared pieces of the reliability suite: generated sources, a private dev server per scenario, the worker as a child
// process (so it can be SIGKILLed), a backfill whose result is awaited through server outages, and the checks that
// a disturbed run left the same data as an undisturbed one: gold content, one file per partition, models once.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { loadConfig, type Config } from '../../lib/config.js';
import { datamart, modelBank } from '../../lib/layout.js';
import { acceptedGapsFile } from '../../core/datamart/completeness.js';
import { registrySchema } from '../../lib/contracts.js';
import { workflowIds } from '../../lib/temporal.js';
import { generateSources } from '../../core/generator/index.js';
import { PROJECT_ROOT, freePort, startDevServer, type DevServer } from '../../workers/dev-server.js';
import { causes } from '../../scripts/lib/causes.js';
import { startWorkerChild, type WorkerChild } from '../../workers/worker-process.js';
import { backfillWorkflow, type BackfillResult } from '../../workflows/backfill.js';
import { historicalInferenceWorkflow, type HistoryResult } from '../../workflows/historical-inference.js';
import { goldTableHash } from '../helpers/gold.js';

/** CHAOS_LONG=1 (npm run test:chaos): the real data set's size and more disturbances; unset (npm test): small. */
export const LONG = process.env.CHAOS_LONG === '1';
export const CUSTOMERS = LONG ? 12_500 : 600;
export const FROM = '2023-01';
export const TO = '2024-12';
export const BACKFILL_ID = workflowIds.backfill(FROM, TO);
export const HISTORY_ID = workflowIds.history(FROM, TO);

export const sleep = (ms: number) => new Promise((wait) => setTimeout(wait, ms));
export const randomInt = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));

/** A scratch folder under .test-tmp/chaos with its own datamart, model bank and reports, and a unique task queue. */
export function scenario(name: string, overrides: Record<string, string> = {}) {
  const dir = join(PROJECT_ROOT, '.test-tmp', 'chaos', `${name}-${randomUUID().slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  const config: Config = loadConfig({
    DATAMART_DIR: join(dir, 'datamart'),
    MODEL_BANK_DIR: join(dir, 'model_bank'),
    REPORTS_DIR: join(dir, 'reports'),
    TEMPORAL_TASK_QUEUE: `chaos-${name}`,
    // The short form's months are small (600 customers: about 28 applications a month), and the generated ages, like
    // the real data's, fall outside [18, 100] for about one applicant in eleven: by chance alone some month crosses the
    // default 20% and fails as a data-quality month. Faults are under test here, not data quality (test/etl does that).
    MAX_QUARANTINE_SHARE: '0.35',
    ...overrides,
  });
  return { dir, config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function generate(dir: string): Promise<string> {
  const out = join(dir, 'sources');
  await generateSources({ customers: CUSTOMERS, out, seed: 7 });
  return out;
}

/** Everything a scenario started, stopped in reverse order whatever happened. */
export class Processes {
  servers: DevServer[] = [];
  workers: WorkerChild[] = [];
  connections: Connection[] = [];

  async server(dir: string, port?: number): Promise<DevServer> {
    const server = await startDevServer({
      port: port ?? (await freePort()),
      headless: true,
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'server.log'),
    });
    this.servers.push(server);
    return server;
  }

  async worker(address: string, config: Config, extraEnv: Record<string, string> = {}): Promise<WorkerChild> {
    const worker = await startWorkerChild({ address, config, extraEnv });
    this.workers.push(worker);
    return worker;
  }

  async client(address: string): Promise<Client> {
    const connection = await Connection.connect({ address });
    this.connections.push(connection);
    return new Client({ connection });
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill().catch(() => undefined)));
    await Promise.all(this.connections.map((connection) => connection.close().catch(() => undefined)));
    await Promise.all(this.servers.map((server) => server.stop().catch(() => undefined)));
    this.workers = [];
    this.connections = [];
    this.servers = [];
  }
}

export function startBackfill(client: Client, config: Config, sourceDir: string): Promise<WorkflowHandleWithFirstExecutionRunId<typeof backfillWorkflow>> {
  return client.workflow.start(backfillWorkflow, {
    workflowId: BACKFILL_ID,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ from: FROM, to: TO, sourceDir }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/** The workflow's result, waiting through connection errors while a server is down (not through workflow failure). */
export async function resultThroughOutages<T>(client: Client, workflowId: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await client.workflow.getHandle(workflowId).result()) as T;
    } catch (error) {
      if (error instanceof WorkflowFailedError) throw new Error(`${workflowId} failed: ${causeChain(error)}`, { cause: error });
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

/** An error's message and its causes' (a child's activity failure is three levels down), one per line. */
export function causeChain(error: unknown): string {
  return causes(error).map((cause) => `${cause.name}: ${cause.message}`).join('\n  caused by ');
}

/** The backfill's progress query, or null while it cannot answer (no workflow task yet, server down). */
export async function progress(client: Client): Promise<{ total: number; done: number; failed: number; running: number } | null> {
  try {
    return await client.workflow.getHandle(BACKFILL_ID).query('progress');
  } catch {
    return null;
  }
}

export interface GoldFingerprint {
  feature_store: string;
  label_store: string;
  predictions: string;
}

export async function goldFingerprint(config: Config): Promise<GoldFingerprint> {
  return {
    feature_store: await goldTableHash(datamart.featureStore(config.DATAMART_DIR)),
    label_store: await goldTableHash(datamart.labelStore(config.DATAMART_DIR)),
    predictions: await goldTableHash(join(config.DATAMART_DIR, 'gold', 'predictions')),
  };
}

/**
 * Every folder of the datamart's tables that holds files holds exactly one `data.parquet` (the decision log its own
 * file): no duplicate partition file. Folders whose name starts with `_` are caches (the ETL's `_staging`) and temp
 * files are `temporaryLeftovers`' business. Returns the problems found.
 */
export function partitionProblems(datamartDir: string): string[] {
  const problems: string[] = [];
  const walk = (dir: string, inCache: boolean) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.endsWith('.tmp')) walk(join(dir, entry.name), inCache || entry.name.startsWith('_'));
    }
    // Besides its data a partition holds its lineage (`_lineage.json`, core/datamart/lineage.ts).
    const files = entries.filter((entry) => entry.isFile() && !entry.name.endsWith('.tmp') && entry.name !== '_lineage.json').map((entry) => entry.name);
    if (inCache || files.length === 0) return;
    if (dir === dirname(datamart.decisionLog(datamartDir))) {
      // Governance holds its logs side by side (decisions, promotions, accepted gaps), each one file rewritten atomically.
      const logs = new Set([datamart.decisionLog(datamartDir), datamart.promotionLog(datamartDir), acceptedGapsFile(datamartDir)].map((file) => basename(file)));
      const strays = files.filter((file) => !logs.has(file));
      if (strays.length > 0) problems.push(`${dir.slice(datamartDir.length + 1)}: ${strays.join(', ')}`);
      return;
    }
    if (files.length !== 1 || files[0] !== 'data.parquet') problems.push(`${dir.slice(datamartDir.length + 1)}: ${files.join(', ')}`);
  };
  if (existsSync(datamartDir)) walk(datamartDir, false);
  return problems;
}

/** Temp files or folders (`*.tmp`) anywhere under `root`: what a write killed between its start and its rename leaves. */
export function temporaryLeftovers(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.endsWith('.tmp')) found.push(join(dir, entry.name).slice(root.length + 1));
      else if (entry.isDirectory()) walk(join(dir, entry.name));
    }
  };
  if (existsSync(root)) walk(root);
  return found;
}

/** Partition folders (snapshot_date=…) per gold/silver/bronze table: a missing partition shows as a lower count. */
export function partitionCounts(datamartDir: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const walk = (dir: string, table: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('_') || entry.name.endsWith('.tmp')) continue;
      if (entry.name.startsWith('snapshot_date=')) counts[table] = (counts[table] ?? 0) + 1;
      else walk(join(dir, entry.name), table ? `${table}/${entry.name}` : entry.name);
    }
  };
  if (existsSync(datamartDir)) walk(datamartDir, '');
  return counts;
}

/** Model folders against the registry: each folder registered once as a candidate, no stray or temp folder. */
export function modelProblems(modelBankDir: string): { models: string[]; problems: string[] } {
  const problems: string[] = [];
  const registryFile = modelBank.registry(modelBankDir);
  const registry = existsSync(registryFile) ? registrySchema.parse(JSON.parse(readFileSync(registryFile, 'utf8'))) : { production: null, history: [] };
  const entries = existsSync(modelBankDir) ? readdirSync(modelBankDir, { withFileTypes: true }) : [];
  const models = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('_') && !entry.name.endsWith('.tmp')).map((entry) => entry.name).sort();
  for (const model of models) {
    const registered = registry.history.filter((event) => event.model_id === model && event.stage === 'candidate').length;
    if (registered !== 1) problems.push(`${model} registered ${registered} times as a candidate`);
    if (!existsSync(join(modelBankDir, model, 'metadata.json'))) problems.push(`${model} has no metadata.json`);
  }
  for (const event of registry.history) {
    if (!models.includes(event.model_id)) problems.push(`registry names ${event.model_id} but the bank has no such folder`);
  }
  return { models, problems };
}

export interface RunOutcome {
  result: BackfillResult;
  history: HistoryResult;
  gold: GoldFingerprint;
  partitions: Record<string, number>;
  models: string[];
  /** Temp files left in the datamart and model bank (checked separately: only a killed process leaves them). */
  leftovers: string[];
  seconds: number;
}

/** Phase 2 over the same range once the backfill is done (predictions are gold too). */
export async function runHistory(client: Client, config: Config, timeoutMs: number): Promise<HistoryResult> {
  await client.workflow.start(historicalInferenceWorkflow, {
    workflowId: HISTORY_ID,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ from: FROM, to: TO }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return resultThroughOutages<HistoryResult>(client, HISTORY_ID, timeoutMs);
}

/** What a finished scenario left behind, with the structural checks applied (throws on a problem). */
export async function outcome(config: Config, result: BackfillResult, history: HistoryResult, seconds: number): Promise<RunOutcome> {
  const partitions = partitionProblems(config.DATAMART_DIR);
  if (partitions.length > 0) throw new Error(`partition problems:\n${partitions.join('\n')}`);
  const { models, problems } = modelProblems(config.MODEL_BANK_DIR);
  if (problems.length > 0) throw new Error(`model bank problems:\n${problems.join('\n')}`);
  return {
    result,
    history,
    gold: await goldFingerprint(config),
    partitions: partitionCounts(config.DATAMART_DIR),
    models,
    leftovers: [
      ...temporaryLeftovers(config.DATAMART_DIR).map((path) => `datamart/${path}`),
      ...temporaryLeftovers(config.MODEL_BANK_DIR).map((path) => `model_bank/${path}`),
    ],
    seconds,
  };
}
