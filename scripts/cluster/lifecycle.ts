// `npm run cluster -- up|down|status` as functions (the command and the cluster tests call them): up builds what is
// missing, starts PostgreSQL, sets up the schemas, starts the services one by one, the namespace and search
// attributes, the UI, optionally workers; every step skips what is already there, so `up` also restarts whatever
// died. down stops everything in reverse order and leaves no process; the data stays for the next up.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_SERVICES, servicePorts, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION, type ClusterSettings } from './settings.js';
import { ensureServerBinaries, ensureUiBinary } from './binaries.js';
import { preparePostgres, postgresBinDir, postgresPid, postgresReady, startPostgres, stopPostgres } from './postgres.js';
import { setUpSchemas } from './schema.js';
import {
  SERVER_PROGRAM, UI_PROGRAM, clusterHealthy, ensureNamespace, processName, stagedBinary, startServerServices, startUi, startWorkers,
  type ServiceContext,
} from './services.js';
import { account, assertReachable, runningAsRoot, runningPid, stateLayout, stopPid, tcpOpen, waitFor, type StateLayout } from './processes.js';
import { TEMPORAL_BINARY } from '../../workers/dev-server.js';

export interface UpOptions {
  /** Pipeline worker processes to start against the cluster (default none). */
  workers?: number;
}

/** Brings every part up that is not running (so it also restarts what died). */
export async function clusterUp(settings: ClusterSettings, log: (line: string) => void, options: UpOptions = {}): Promise<void> {
  if (!existsSync(TEMPORAL_BINARY)) throw new Error(`${TEMPORAL_BINARY} is missing: run 'npm run setup' (it installs the Temporal CLI)`);
  mkdirSync(settings.stateDir, { recursive: true, mode: 0o755 });
  for (const name of runningAsRoot() ? ['postgres', 'nobody'] : []) {
    const unprivileged = account(name);
    if (unprivileged) assertReachable(settings.stateDir, unprivileged, 'CLUSTER_STATE_DIR');
  }
  const layout = stateLayout(settings.stateDir);
  const binaries = await ensureServerBinaries(log);
  const uiBinary = await ensureUiBinary(log);

  const postgres = await preparePostgres(settings, layout, log);
  if (!postgresPid(postgres)) {
    await startPostgres(postgres);
    log(`PostgreSQL on 127.0.0.1:${settings.postgresPort} (data ${postgres.dataDir}${postgres.owner ? `, as ${postgres.owner.name}` : ''})`);
  }
  await setUpSchemas(settings, binaries, postgres.password);

  const context: ServiceContext = { settings, layout, serverBinary: stagedBinary(settings.stateDir, binaries.server, SERVER_PROGRAM), postgresPassword: postgres.password };
  log(`Temporal server ${TEMPORAL_SERVER_VERSION}, ${settings.historyShards} history shards, one process per service${runningAsRoot() ? ' (as nobody)' : ''}:`);
  await startServerServices(context, log);

  // From here on a step that fails does not stop the others: the UI and the workers are started whatever the
  // namespace step says (after a database crash it may need longer than its wait), and `up` then fails naming it.
  const failed: string[] = [];
  const step = async (name: string, body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (error) {
      failed.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      log(`  ${name} FAILED: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  };
  await step('cluster health', () => waitFor(`cluster health on ${settings.address}`, () => clusterHealthy(settings), { timeoutMs: 120_000 }));
  await step(`namespace ${settings.namespace}`, () => ensureNamespace(settings, log));
  await step('Web UI', async () => {
    const before = runningPid(layout, processName.ui, UI_PROGRAM);
    const pid = await startUi(settings, layout, stagedBinary(settings.stateDir, uiBinary, UI_PROGRAM));
    log(`Web UI ${TEMPORAL_UI_VERSION} on ${settings.uiUrl} (pid ${pid}${before ? ', already running' : ', started'})`);
  });
  if (options.workers) await step('pipeline workers', () => startWorkers(settings, layout, options.workers!, log));
  if (failed.length > 0) throw new Error(`cluster up: ${failed.length} step(s) failed (the others ran):\n  ${failed.join('\n  ')}`);
}

/** Everything recorded in the state folder's run/: pipeline workers first, the UI, then the services in reverse start order. */
function stopOrder(layout: StateLayout): string[] {
  const recorded = existsSync(layout.run) ? readdirSync(layout.run).filter((file) => file.endsWith('.pid')).map((file) => file.slice(0, -4)) : [];
  const services = [...SERVER_SERVICES].reverse().map(processName.service);
  const workers = recorded.filter((name) => name.startsWith('pipeline-worker-'));
  const known = new Set([...workers, processName.ui, ...services]);
  return [...workers, processName.ui, ...services, ...recorded.filter((name) => !known.has(name))];
}

export async function clusterDown(settings: ClusterSettings, log: (line: string) => void): Promise<void> {
  const layout = stateLayout(settings.stateDir);
  for (const name of stopOrder(layout)) {
    const pid = runningPid(layout, name);
    if (pid) {
      await stopPid(layout, name, pid, name.startsWith('pipeline-worker-') ? 45_000 : 20_000);
      log(`stopped ${name} (pid ${pid})`);
    } else {
      rmSync(layout.pidFile(name), { force: true });
    }
  }
  const bin = postgresBinDir();
  const dataDir = join(settings.stateDir, 'postgres');
  if (bin && postgresPid({ dataDir })) {
    const owner = runningAsRoot() ? account('postgres') : null;
    await stopPostgres({ bin, dataDir, owner });
    log('stopped PostgreSQL');
  }
}

export interface ProcessStatus {
  name: string;
  pid: number | null;
  detail: string;
}

export interface ClusterStatus {
  processes: ProcessStatus[];
  health: 'SERVING' | 'not serving';
  uiAnswering: boolean;
}

export async function clusterStatus(settings: ClusterSettings): Promise<ClusterStatus> {
  const layout = stateLayout(settings.stateDir);
  const ports = servicePorts(settings.frontendPort);
  const processes: ProcessStatus[] = [];
  const bin = postgresBinDir();
  const pgPid = postgresPid({ dataDir: join(settings.stateDir, 'postgres') });
  const pgReady = bin && pgPid ? await postgresReady({ bin, port: settings.postgresPort }) : false;
  processes.push({ name: 'postgres', pid: pgPid, detail: `127.0.0.1:${settings.postgresPort} ${pgReady ? 'accepting connections' : 'not accepting connections'}` });
  for (const service of SERVER_SERVICES) {
    const pid = runningPid(layout, processName.service(service), SERVER_PROGRAM);
    const port = ports[service].grpc;
    processes.push({ name: processName.service(service), pid, detail: `gRPC 127.0.0.1:${port} ${(await tcpOpen('127.0.0.1', port)) ? 'listening' : 'closed'}` });
  }
  const uiPid = runningPid(layout, processName.ui, UI_PROGRAM);
  const uiAnswering = uiPid !== null && (await fetch(settings.uiUrl).then((response) => response.ok, () => false));
  processes.push({ name: processName.ui, pid: uiPid, detail: `${settings.uiUrl} ${uiAnswering ? 'answering' : 'not answering'}` });
  for (const name of stopOrder(layout).filter((n) => n.startsWith('pipeline-worker-'))) {
    processes.push({ name, pid: runningPid(layout, name, 'node'), detail: `polling ${settings.address}` });
  }
  return { processes, health: (await clusterHealthy(settings)) ? 'SERVING' : 'not serving', uiAnswering };
}

/** Pids of every process the cluster's state folder records that still runs (empty after a clean down). */
export function livePids(settings: ClusterSettings): number[] {
  const layout = stateLayout(settings.stateDir);
  const pids = stopOrder(layout).map((name) => runningPid(layout, name)).filter((pid): pid is number => pid !== null);
  const pg = postgresPid({ dataDir: join(settings.stateDir, 'postgres') });
  return pg ? [...pids, pg] : pids;
}
