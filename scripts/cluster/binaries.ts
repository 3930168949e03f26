// The Temporal server, its SQL schema tool and the Web UI server, built once from their Go modules into a cache
// outside the checkout (${XDG_CACHE_HOME:-~/.cache}/credit-pipeline/...), so every clone on the machine, CI's fresh
// ones included, reuses them. A build is skipped when the binaries answer with the expected version.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SCHEMA_PATH, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from './settings.js';
import { isAlive, sleep } from './processes.js';

const run = promisify(execFile);

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'credit-pipeline');
}

export interface ServerBinaries {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the module, copied beside the binaries so running needs no Go. */
  schemaDir: string;
}

export function serverBinaries(root = cacheRoot()): ServerBinaries {
  const dir = join(root, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  return { server: join(dir, 'bin', 'server'), sqlTool: join(dir, 'bin', 'sql'), schemaDir: join(dir, 'schema', SCHEMA_PATH) };
}

export function uiBinary(root = cacheRoot()): string {
  return join(root, `temporal-ui-server-${TEMPORAL_UI_VERSION}`, 'bin', 'server');
}

/** `<binary> --version`'s output, or null when it is missing or does not run. */
export async function versionOf(binary: string): Promise<string | null> {
  if (!existsSync(binary)) return null;
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 20_000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

async function serverBinariesBuilt(bins: ServerBinaries): Promise<boolean> {
  return Boolean((await versionOf(bins.server))?.includes(`version ${TEMPORAL_SERVER_VERSION}`)) && (await versionOf(bins.sqlTool)) !== null;
}

export async function serverBuilt(root = cacheRoot()): Promise<boolean> {
  const bins = serverBinaries(root);
  return (await serverBinariesBuilt(bins)) && existsSync(join(bins.schemaDir, 'temporal', 'versioned'));
}

export async function uiBuilt(root = cacheRoot()): Promise<boolean> {
  return Boolean((await versionOf(uiBinary(root)))?.includes(`version ${TEMPORAL_UI_VERSION}`));
}

export async function goAvailable(): Promise<boolean> {
  try {
    await run('go', ['version'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Builds the server and schema tool when they are not in the cache yet; returns their paths. */
export async function ensureServerBinaries(log: (line: string) => void, root = cacheRoot()): Promise<ServerBinaries> {
  const bins = serverBinaries(root);
  if (await serverBuilt(root)) return bins;
  await withBuildLock(join(root, `temporal-server-${TEMPORAL_SERVER_VERSION}.lock`), log, async () => {
    const module = 'go.temporal.io/server';
    if (!(await serverBinariesBuilt(bins))) {
      await goInstall([`${module}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${module}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`], join(bins.server, '..'), `Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool`, log);
    }
    if (!existsSync(join(bins.schemaDir, 'temporal', 'versioned'))) {
      if (!(await goAvailable())) throw new Error(`the schemas of Temporal server ${TEMPORAL_SERVER_VERSION} are not in ${bins.schemaDir} and 'go' is not on PATH to fetch its module`);
      const { stdout } = await run('go', ['mod', 'download', '-json', `${module}@v${TEMPORAL_SERVER_VERSION}`], { timeout: 600_000 });
      const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
      rmSync(bins.schemaDir, { recursive: true, force: true });
      cpSync(join(moduleDir, 'schema', SCHEMA_PATH), bins.schemaDir, { recursive: true });
    }
  });
  if (!(await serverBuilt(root))) throw new Error(`the build left no working Temporal server ${TEMPORAL_SERVER_VERSION} at ${bins.server}`);
  return bins;
}

/** Builds the Web UI server when it is not in the cache yet; returns its path. */
export async function ensureUiBinary(log: (line: string) => void, root = cacheRoot()): Promise<string> {
  const binary = uiBinary(root);
  if (await uiBuilt(root)) return binary;
  await withBuildLock(join(root, `temporal-ui-server-${TEMPORAL_UI_VERSION}.lock`), log, async () => {
    if (await uiBuilt(root)) return;
    await goInstall([`github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}`], join(binary, '..'), `Temporal UI server ${TEMPORAL_UI_VERSION}`, log);
  });
  if (!(await uiBuilt(root))) throw new Error(`the build left no working UI server ${TEMPORAL_UI_VERSION} at ${binary}`);
  return binary;
}

async function goInstall(packages: string[], binDir: string, what: string, log: (line: string) => void): Promise<void> {
  if (!(await goAvailable())) {
    throw new Error(`${what} is not built yet and 'go' is not on PATH: install Go ≥ 1.26 (the module's go.mod asks for it) and run again`);
  }
  mkdirSync(binDir, { recursive: true });
  const logFile = join(binDir, '..', 'build.log');
  log(`building ${what} with Go into ${binDir} (once per machine; ~10-15 min on 2 cores; log ${logFile})`);
  const started = Date.now();
  const out = openSync(logFile, 'w');
  try {
    const code = await new Promise<number | null>((done, fail) => {
      const child = spawn('go', ['install', ...packages], {
        env: { ...process.env, GOBIN: binDir, GOFLAGS: '-trimpath' },
        stdio: ['ignore', out, out],
      });
      child.once('error', fail);
      child.once('exit', (status) => done(status));
    });
    if (code !== 0) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`go install of ${what} failed (exit ${code}); ${logFile}:\n${tail}`);
    }
  } finally {
    closeSync(out);
  }
  log(`built ${what} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
}

/** One build at a time per machine: a lock folder holding the builder's pid; a dead builder's lock is taken over. */
async function withBuildLock(lock: string, log: (line: string) => void, body: () => Promise<void>): Promise<void> {
  mkdirSync(join(lock, '..'), { recursive: true });
  let waited = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
      if (Number.isInteger(owner) && isAlive(owner)) {
        if (!waited) log(`another process (pid ${owner}) is building into ${join(lock, '..')}: waiting for it`);
        waited = true;
        await sleep(2000);
      } else {
        // A lock without a live owner: its builder died, or is between mkdir and writing its pid. Look again.
        await sleep(1000);
        const again = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
        if (!(Number.isInteger(again) && isAlive(again))) rmSync(lock, { recursive: true, force: true });
      }
    }
  }
  try {
    await body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
