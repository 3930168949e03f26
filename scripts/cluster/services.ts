// The cluster's long-running processes: the four Temporal services (one process each, from one environment), the Web
// UI server, and optionally a fleet of pipeline workers. As root, Temporal and the UI run as `nobody`: they need no
// file of ours but their binaries, which are hard-linked into the state folder where `nobody` can reach them
// (the build cache is under root's home).
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, TEMPORAL_BINARY } from '../../workers/dev-server.js';
import {
  DYNAMIC_CONFIG_FILE, POSTGRES_USER, SEARCH_ATTRIBUTE_NAMES, SERVER_SERVICES, servicePorts, temporalServerEnvironment,
  type ClusterSettings, type ServerService,
} from './settings.js';
import { account, runningAsRoot, runningPid, startDaemon, tcpOpen, waitFor, type Account, type StateLayout } from './processes.js';

const run = promisify(execFile);

export const processName = {
  service: (service: ServerService) => `temporal-${service}`,
  ui: 'temporal-ui',
  worker: (index: number) => `pipeline-worker-${index}`,
};

export const SERVER_PROGRAM = 'temporal-server';
export const UI_PROGRAM = 'temporal-ui-server';

function serviceAccount(): Account | null {
  if (!runningAsRoot()) return null;
  const nobody = account('nobody');
  if (!nobody) throw new Error("running as root, the Temporal services need the unprivileged 'nobody' account");
  return nobody;
}

/** The cached binary under the state folder's bin/ (a hard link; a copy across file systems). */
export function stagedBinary(stateDir: string, source: string, name: string): string {
  const target = join(stateDir, 'bin', name);
  const current = existsSync(target) ? statSync(target) : null;
  const wanted = statSync(source);
  if (current && current.ino === wanted.ino) return target;
  if (current && current.size === wanted.size && current.mtimeMs >= wanted.mtimeMs) return target;
  mkdirSync(join(stateDir, 'bin'), { recursive: true });
  rmSync(target, { force: true });
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
    chmodSync(target, 0o755);
  }
  return target;
}

export interface ServiceContext {
  settings: ClusterSettings;
  layout: StateLayout;
  serverBinary: string;
  postgresPassword: string;
}

/** The server's environment; its dynamic config is copied into the state folder, the one place the services read. */
export function serverEnvironment(context: Pick<ServiceContext, 'settings' | 'postgresPassword'>): Record<string, string> {
  const dynamicConfigFile = join(context.settings.stateDir, 'config', 'dynamicconfig.yaml');
  mkdirSync(dirname(dynamicConfigFile), { recursive: true });
  copyFileSync(DYNAMIC_CONFIG_FILE, dynamicConfigFile);
  return temporalServerEnvironment(context.settings, {
    postgresHost: '127.0.0.1',
    postgresUser: POSTGRES_USER,
    postgresPassword: context.postgresPassword,
    bindIp: '127.0.0.1',
    dynamicConfigFile,
  });
}

/** Starts one Temporal service unless it runs; resolves once it listens on its gRPC port. */
export async function startServerService(context: ServiceContext, service: ServerService): Promise<number> {
  const name = processName.service(service);
  const running = runningPid(context.layout, name, SERVER_PROGRAM);
  if (running) return running;
  const port = servicePorts(context.settings.frontendPort)[service].grpc;
  if (await tcpOpen('127.0.0.1', port)) throw new Error(`port ${port} (${service} gRPC) is taken by another program: set CLUSTER_FRONTEND_PORT to a free block`);
  const daemon = startDaemon(context.layout, name, {
    command: context.serverBinary,
    args: ['--allow-no-auth', 'start', '--service', service],
    env: serverEnvironment(context),
    cwd: context.settings.stateDir,
    as: serviceAccount(),
  });
  await waitFor(`the Temporal ${service} service listening on 127.0.0.1:${port}`, () => tcpOpen('127.0.0.1', port), {
    timeoutMs: 120_000,
    alive: () => runningPid(context.layout, name) !== null,
    logFile: context.layout.logFile(name),
  });
  return daemon.pid;
}

/**
 * All four services, history first: started at the same instant, services raced on initialising the cluster metadata
 * and two exited (the recipe in shared/notes); one at a time, each once the previous listens, they do not.
 */
export async function startServerServices(context: ServiceContext, log: (line: string) => void): Promise<void> {
  for (const service of SERVER_SERVICES) {
    const before = runningPid(context.layout, processName.service(service), SERVER_PROGRAM);
    const pid = await startServerService(context, service);
    if (!before) log(`  ${service} started (pid ${pid}, gRPC 127.0.0.1:${servicePorts(context.settings.frontendPort)[service].grpc})`);
  }
}

export async function temporalCli(settings: Pick<ClusterSettings, 'address'>, args: string[], timeout = 30_000): Promise<string> {
  const { stdout } = await run(TEMPORAL_BINARY, [...args, '--address', settings.address], { timeout, maxBuffer: 64 << 20 });
  return stdout;
}

/** What the CLI printed on a failure (its stderr holds the server's error), for the caller to classify. */
function cliFailure(error: unknown): string {
  const failure = error as { stderr?: string; message?: string };
  return `${failure.stderr ?? ''} ${failure.message ?? String(error)}`.trim();
}

export async function clusterHealthy(settings: ClusterSettings): Promise<boolean> {
  try {
    return /SERVING/.test(await temporalCli(settings, ['operator', 'cluster', 'health'], 10_000));
  } catch {
    return false;
  }
}

/**
 * The server's answer to "does namespace X exist": only a NotFound is "missing". Anything else — the frontend not
 * answering, or the persistence layer's "no usable database connection found" right after PostgreSQL restarts — is
 * "not reachable yet", which an earlier `up` read as missing and then failed creating a namespace that existed.
 */
export type NamespaceState = { kind: 'exists' } | { kind: 'missing' } | { kind: 'unreachable'; reason: string };

export function classifyNamespaceDescribe(failure: string): NamespaceState {
  if (/not ?found/i.test(failure)) return { kind: 'missing' };
  return { kind: 'unreachable', reason: failure.split('\n').map((line) => line.trim()).filter(Boolean).slice(-1)[0] ?? failure };
}

export async function describeNamespace(settings: Pick<ClusterSettings, 'address'>, namespace: string): Promise<NamespaceState> {
  try {
    await temporalCli(settings, ['operator', 'namespace', 'describe', '--namespace', namespace], 15_000);
    return { kind: 'exists' };
  } catch (error) {
    return classifyNamespaceDescribe(cliFailure(error));
  }
}

/** How long `up` waits for the namespace to answer (the database coming back after a crash takes seconds). */
const NAMESPACE_REACHABLE_TIMEOUT_MS = 90_000;

/** A namespace (30-day retention) with the search attributes of SPEC §5, then a visibility query that uses them. */
export async function ensureNamespace(settings: Pick<ClusterSettings, 'address' | 'namespace'>, log: (line: string) => void, namespace = settings.namespace): Promise<void> {
  const ns = ['--namespace', namespace];
  const answer: { state: NamespaceState } = { state: { kind: 'unreachable', reason: 'not asked yet' } };
  await waitFor(`namespace ${namespace} answering on ${settings.address}`, async () => {
    answer.state = await describeNamespace(settings, namespace);
    return answer.state.kind !== 'unreachable';
  }, { timeoutMs: NAMESPACE_REACHABLE_TIMEOUT_MS, lastError: () => (answer.state.kind === 'unreachable' ? answer.state.reason : '') });
  if (answer.state.kind === 'missing') {
    try {
      await temporalCli(settings, ['operator', 'namespace', 'create', ...ns, '--retention', '30d']);
      log(`  namespace ${namespace} created`);
    } catch (error) {
      // Another `up` (or the first attempt of this one, its answer lost) created it meanwhile: that is what we wanted.
      if (!/already exists/i.test(cliFailure(error))) throw error;
    }
  }
  let existing: string[] = [];
  await waitFor(`namespace ${namespace} answering`, async () => {
    try {
      const listed = JSON.parse(await temporalCli(settings, ['operator', 'search-attribute', 'list', ...ns, '--output', 'json'])) as { customAttributes?: Record<string, unknown> };
      existing = Object.keys(listed.customAttributes ?? {});
      return true;
    } catch {
      return false;
    }
  }, { timeoutMs: 60_000 });
  for (const name of SEARCH_ATTRIBUTE_NAMES.filter((attribute) => !existing.includes(attribute))) {
    await temporalCli(settings, ['operator', 'search-attribute', 'create', ...ns, '--name', name, '--type', 'Keyword']);
    log(`  search attribute ${name} (Keyword) registered in ${namespace}`);
  }
  const query = SEARCH_ATTRIBUTE_NAMES.map((name) => `${name}='probe'`).join(' AND ');
  await waitFor('a visibility query over the search attributes', async () => {
    try {
      await temporalCli(settings, ['workflow', 'count', ...ns, '--query', query]);
      return true;
    } catch {
      return false;
    }
  }, { timeoutMs: 60_000 });
}

/** The Web UI server's config: the module's own keys, bound to 127.0.0.1 and pointed at the frontend. */
export function uiConfig(settings: ClusterSettings): Record<string, unknown> {
  return {
    temporalGrpcAddress: settings.address,
    host: '127.0.0.1',
    port: settings.uiPort,
    enableUi: true,
    defaultNamespace: settings.namespace,
    refreshInterval: '0s',
    cors: { allowOrigins: [settings.uiUrl, `http://localhost:${settings.uiPort}`], cookieInsecure: true },
  };
}

export async function startUi(settings: ClusterSettings, layout: StateLayout, uiBinary: string): Promise<number> {
  const running = runningPid(layout, processName.ui, UI_PROGRAM);
  if (running) return running;
  if (await tcpOpen('127.0.0.1', settings.uiPort)) throw new Error(`port ${settings.uiPort} (Web UI) is taken by another program: set CLUSTER_UI_PORT`);
  const configDir = join(settings.stateDir, 'ui', 'config');
  mkdirSync(configDir, { recursive: true });
  // JSON is YAML: the UI server reads <root>/config/<env>.yaml.
  writeFileSync(join(configDir, 'cluster.yaml'), JSON.stringify(uiConfig(settings), null, 2) + '\n');
  const daemon = startDaemon(layout, processName.ui, {
    command: uiBinary,
    args: ['--root', join(settings.stateDir, 'ui'), '--config', 'config', '--env', 'cluster', 'start'],
    cwd: settings.stateDir,
    as: serviceAccount(),
  });
  await waitFor(`the Web UI on ${settings.uiUrl}`, () => tcpOpen('127.0.0.1', settings.uiPort), {
    timeoutMs: 60_000,
    alive: () => runningPid(layout, processName.ui) !== null,
    logFile: layout.logFile(processName.ui),
  });
  return daemon.pid;
}

/** `npm run worker` processes against the cluster, each its own identity (pid@host), sharing this checkout's outputs. */
export async function startWorkers(settings: ClusterSettings, layout: StateLayout, count: number, log: (line: string) => void): Promise<void> {
  for (let index = 1; index <= count; index++) {
    const name = processName.worker(index);
    const running = runningPid(layout, name, 'node');
    if (running) {
      log(`  pipeline worker ${index} already running (pid ${running})`);
      continue;
    }
    rmSync(layout.logFile(name), { force: true });
    const daemon = startDaemon(layout, name, {
      command: process.execPath,
      args: ['--import', 'tsx', 'workers/main.ts'],
      cwd: PROJECT_ROOT,
      env: { TEMPORAL_ADDRESS: settings.address, TEMPORAL_NAMESPACE: settings.namespace },
    });
    await waitFor(`pipeline worker ${index} polling`, async () => existsSync(layout.logFile(name)) && readFileSync(layout.logFile(name), 'utf8').includes('polling task queue'), {
      timeoutMs: 120_000,
      alive: () => runningPid(layout, name) !== null,
      logFile: layout.logFile(name),
    });
    log(`  pipeline worker ${index} polling (pid ${daemon.pid})`);
  }
}
