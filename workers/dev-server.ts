// The local Temporal dev server (the CLI built by scripts/setup into .tools/bin): probe, start, wait until healthy,
// register the search attributes of SPEC §5, stop. Used by `npm run server`, the demo, the bench and the chaos tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../lib/temporal.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPORAL_BINARY = resolve(PROJECT_ROOT, '.tools/bin/temporal');

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  dbFile?: string;
  logFile?: string;
  namespace?: string;
  /** Seconds to wait for the server to answer. */
  startTimeout?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export type PortState = 'free' | 'temporal' | 'other';

export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(false));
  });
}

/** What listens on an address: nothing, a Temporal frontend, or something else. */
export async function probeAddress(address: string): Promise<PortState> {
  const [host, port] = splitAddress(address);
  if (!(await tcpOpen(host, port))) return 'free';
  // Something that is not a gRPC server may neither answer nor hang up: bound the whole check in time.
  const answer = (async () => {
    const connection = await Connection.connect({ address, connectTimeout: 3000 });
    try {
      await connection.withDeadline(Date.now() + 3000, () => connection.workflowService.getSystemInfo({}));
      return 'temporal' as const;
    } finally {
      await connection.close();
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'other'>((done) => {
    timer = setTimeout(() => done('other'), 5000);
  });
  try {
    return await Promise.race([answer, timeout]);
  } catch {
    return 'other';
  } finally {
    clearTimeout(timer);
    answer.catch(() => undefined);
  }
}

function splitAddress(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index), Number(address.slice(index + 1))];
}

export function searchAttributeArgs(): string[] {
  return ALL_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}

const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/** Starts the dev server and resolves once it answers; rejects with the log's tail when it dies first. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const address = `${ip}:${port}`;
  if (!existsSync(TEMPORAL_BINARY)) {
    throw new Error(`${TEMPORAL_BINARY} is missing: run 'npm run setup' (it builds the Temporal CLI)`);
  }
  const state = await probeAddress(address);
  if (state === 'other') {
    throw new Error(`port ${port} on ${ip} is taken by something that is not a Temporal server; stop it or set TEMPORAL_ADDRESS`);
  }
  if (state === 'temporal') throw new Error(`a Temporal server already answers on ${address}`);

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', 'warn', ...searchAttributeArgs()];
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort ?? port + 1000));
  if (options.dbFile) {
    mkdirSync(dirname(resolve(options.dbFile)), { recursive: true });
    // A write-ahead log synced at checkpoints instead of a rollback journal synced on every commit: each workflow task
    // and activity transition is a commit, and the per-commit sync was most of the orchestration's wall. Still durable
    // when the server process is killed (the chaos tests do); only a machine crash may lose the last transitions.
    args.push('--db-filename', resolve(options.dbFile), ...SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]));
  }
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  const logFile = options.logFile ?? resolve(PROJECT_ROOT, '.temporal/server.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const child = spawn(TEMPORAL_BINARY, args, { stdio: ['ignore', log, log] });

  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  const deadline = Date.now() + (options.startTimeout ?? 60) * 1000;
  while ((await probeAddress(address)) !== 'temporal') {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`the Temporal dev server did not come up on ${address} (${exited ?? 'timed out'}); log ${logFile}:\n${tail}`);
    }
    await new Promise((wait) => setTimeout(wait, 250));
  }

  return {
    address,
    uiUrl: options.headless ? null : `http://${ip}:${options.uiPort ?? port + 1000}`,
    process: child,
    stop: () => stopProcess(child),
  };
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Registers any of SPEC §5's search attributes a running server lacks (a server started elsewhere, e.g. compose). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = ALL_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  }
  return missing.map((key) => key.name);
}

/**
 * Uses the Temporal server answering on `address` (registering any search attribute it lacks), or starts the dev
 * server there. Returns the started server, or null when one was already running; refuses a port held by
 * something else.
 */
export async function ensureDevServer(
  address: string,
  namespace: string,
  options: Omit<DevServerOptions, 'ip' | 'port' | 'namespace'> = {},
): Promise<{ server: DevServer | null; registered: string[] }> {
  const state = await probeAddress(address);
  if (state === 'other') {
    throw new Error(`${address} is taken by something that is not a Temporal server; stop it or set TEMPORAL_ADDRESS`);
  }
  if (state === 'temporal') {
    const connection = await Connection.connect({ address });
    try {
      return { server: null, registered: await ensureSearchAttributes(connection, namespace) };
    } finally {
      await connection.close();
    }
  }
  const [ip, port] = splitAddress(address);
  return { server: await startDevServer({ ...options, ip, port, namespace }), registered: [] };
}

/** A TCP port free on `host` right now (the OS picks it), for a private server of a test, the bench or a docs script. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? done(port) : fail(new Error('the OS gave no port'))));
    });
  });
}
