// `npm run demo -- --exit` on every supported Node other than the one running the suite, as a new user would run it:
// a fresh `git clone` of HEAD, nothing but the clone's defaults (generated data, ./datamart, its own dev server).
// Why it is here: Node 22 and later refused what Node 20 allowed (the fit thread's transfer of pooled buffers, see
// core/transferable.ts), and every training failed there while the suite, run on Node 20 only, passed. `npm test`
// runs the whole suite on the newest LTS (scripts/test); this test covers the other lines, the older pinned LTS
// binaries of scripts/requirements/node.lock and (in `npm run test:long`) the machine's own Node, with one demo each (the demo goes through
// every native package: DuckDB, libxgboost through koffi, ONNX Runtime, Temporal's core bridge, resvg), since the
// suite on every Node would take several times CI's budget. Each demo is bounded by DEMO_TIMEOUT_MS.
//
// The clone shares this checkout's node_modules and .tools (symlinks): the native packages are Node-API modules,
// one build for every Node. Its own TEMPORAL_ADDRESS port keeps its dev server apart from any other.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { registrySchema } from '../../lib/contracts.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { descendants, isAlive } from '../helpers/npm-process.js';

/** A demo from a fresh clone takes 20-40 s on an idle machine (data generation, 24 months, 3 trainings); under load, minutes. */
const DEMO_TIMEOUT_MS = 15 * 60_000;
const TOOLS_DIR = realpathSync(join(PROJECT_ROOT, '.tools'));
const LOCK_FILE = join(PROJECT_ROOT, 'scripts/requirements/node.lock');

interface Runtime {
  node: string;
  version: string;
}

const versionOf = (node: string) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

/** The official binaries of node.lock, as `scripts/setup --tests` installs them. */
function pinnedRuntimes(): Runtime[] {
  const packages = readFileSync(LOCK_FILE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.trim().startsWith('#'))
    .map((line) => line.trim().split(/\s+/)[0]);
  return packages.map((spec) => {
    const version = spec.slice(spec.lastIndexOf('@') + 1);
    const node = join(TOOLS_DIR, `node-${version}`, 'bin', 'node');
    assert.ok(existsSync(node), `${node} is missing: run scripts/setup --tests`);
    return { node, version: `v${version}` };
  });
}

/** The first `node` on PATH that is not one of .tools' binaries: the machine's own. */
function machineRuntime(): Runtime | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const node = join(dir, 'node');
    if (!dir || !existsSync(node) || realpathSync(node).startsWith(TOOLS_DIR + '/')) continue;
    return { node, version: versionOf(node) };
  }
  return undefined;
}

/** One runtime per supported major other than the one running this test (the suite covers that one). */
function runtimesToTry(): Runtime[] {
  const majors = new Set([major(process.version)]);
  const chosen: Runtime[] = [];
  for (const runtime of [...pinnedRuntimes(), machineRuntime()]) {
    if (!runtime || majors.has(major(runtime.version))) continue;
    majors.add(major(runtime.version));
    chosen.push(runtime);
  }
  return chosen;
}

const listens = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });

const portsGiven = new Set<number>();
/**
 * A port for the dev server whose Web UI port (port + 1000, workers/dev-server.ts) is free too, and neither of them
 * one that an earlier call gave to a demo running at the same time (whose server may not listen yet).
 */
async function privatePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if ([port - 1000, port, port + 1000].some((taken) => portsGiven.has(taken))) continue;
    if ((await listens(port)) && (await listens(port + 1000))) {
      portsGiven.add(port);
      return port;
    }
  }
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const clones: string[] = [];
const treePids = new Set<number>();
after(() => {
  for (const pid of treePids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of clones) rmSync(dir, { recursive: true, force: true });
});

/** A clone of HEAD beside nothing, with this checkout's node_modules and .tools linked in. */
function freshClone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'credit-pipeline-clone-'));
  clones.push(dir);
  const head = execFileSync('git', ['-C', PROJECT_ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  execFileSync('git', ['clone', '--quiet', '--shared', '--no-checkout', PROJECT_ROOT, dir]);
  execFileSync('git', ['-C', dir, 'checkout', '--quiet', '--detach', head]);
  // setup in the clone would run `npm ci` into the shared node_modules if its lock differed from what is installed.
  const installed = join(PROJECT_ROOT, 'node_modules', '.setup-lock-sha256');
  assert.equal(sha256(join(dir, 'package-lock.json')), readFileSync(installed, 'utf8').trim(), 'HEAD\'s package-lock.json is not the installed one: commit it and run scripts/setup');
  symlinkSync(realpathSync(join(PROJECT_ROOT, 'node_modules')), join(dir, 'node_modules'));
  symlinkSync(TOOLS_DIR, join(dir, '.tools'));
  return dir;
}

/** `npm run demo -- --exit` in `dir` with `runtime` first on PATH; every node process of its tree is recorded. */
async function demo(dir: string, runtime: Runtime, port: number): Promise<{ code: number | null; output: string; nodesUsed: Set<string>; pids: Set<number> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(runtime.node)}${delimiter}${process.env.PATH}`, TEMPORAL_ADDRESS: `127.0.0.1:${port}` };
  // The clone's defaults, as for a new user: nothing of this process's configuration.
  for (const name of ['DATAMART_DIR', 'MODEL_BANK_DIR', 'REPORTS_DIR', 'TEMPORAL_DB_FILE', 'TEMPORAL_TASK_QUEUE', 'TEMPORAL_NAMESPACE', 'NODE_OPTIONS']) delete env[name];
  const child = spawn('npm', ['run', 'demo', '--', '--exit'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const nodesUsed = new Set<string>();
  const pids = new Set<number>();
  const watch = setInterval(() => {
    for (const pid of [child.pid!, ...descendants(child.pid!)]) {
      pids.add(pid);
      treePids.add(pid);
      try {
        const exe = readlinkSync(`/proc/${pid}/exe`);
        if (/\/node$/.test(exe)) nodesUsed.add(exe);
      } catch {
        // gone already
      }
    }
  }, 200);
  const timer = setTimeout(() => {
    output += `\n[test] still running after ${DEMO_TIMEOUT_MS} ms: killed\n`;
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }, DEMO_TIMEOUT_MS);
  const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)));
  clearInterval(watch);
  clearTimeout(timer);
  return { code, output, nodesUsed, pids };
}

/**
 * `npm test` covers the LTS lines node.lock pins; a machine's own Node outside them (this one's Node 20, past its end of
 * life) runs its demo in `npm run test:long` (TEST_LONG=1).
 */
const pinnedMajors = new Set(pinnedRuntimes().map((runtime) => major(runtime.version)));
const skipUnlessLong = (runtime: Runtime) =>
  pinnedMajors.has(major(runtime.version)) || process.env.TEST_LONG === '1' ? false : `Node ${runtime.version} is not a pinned LTS line: npm run test:long runs its demo`;

/**
 * The demos run at once, one per runtime, each from its own clone with its own dev server port, datamart and model
 * bank (the clone's defaults): nothing is shared but the read-only node_modules and .tools, and a demo spends much of
 * its time waiting on its dev server and worker, so the two LTS demos take little more than the longer one. The first
 * test to run starts them all; each test awaits its own.
 */
const demosToRun = runtimesToTry().filter((runtime) => skipUnlessLong(runtime) === false);
let demosStarted: Map<string, Promise<{ dir: string } & Awaited<ReturnType<typeof demo>>>> | undefined;
function demoOn(runtime: Runtime) {
  demosStarted ??= new Map(
    demosToRun.map((each) => {
      const outcome = (async () => {
        const dir = freshClone();
        return { dir, ...(await demo(dir, each, await privatePort())) };
      })();
      outcome.catch(() => {}); // its own test reports a failure; the others must not see it as unhandled
      return [each.version, outcome];
    }),
  );
  return demosStarted.get(runtime.version)!;
}

for (const runtime of runtimesToTry()) {
  test(`npm run demo -- --exit exits 0 on Node ${runtime.version} from a fresh clone`, { skip: skipUnlessLong(runtime), timeout: DEMO_TIMEOUT_MS + 120_000 }, async () => {
    const { dir, code, output, nodesUsed, pids } = await demoOn(runtime);
    assert.equal(code, 0, output.slice(-4000));
    assert.deepEqual([...nodesUsed], [realpathSync(runtime.node)], `the demo's node processes ran ${[...nodesUsed].join(', ')}`);
    assert.match(output, /the demo stopped its worker and the dev server/);
    assert.doesNotMatch(output, /DataCloneError|pipeline failed/);
    // Two models (the first and the challenger) and a production model, in the clone's default model bank.
    const registry = registrySchema.parse(JSON.parse(readFileSync(join(dir, 'model_bank', 'registry.json'), 'utf8')));
    assert.ok(registry.production, 'a production model');
    assert.ok(new Set(registry.history.map((event) => event.model_id)).size >= 2, JSON.stringify(registry.history));
    // Nothing of the demo's tree outlives it (its dev server included).
    await new Promise((wait) => setTimeout(wait, 500));
    assert.deepEqual([...pids].filter(isAlive), [], 'processes of the demo left running');
  });
}

test('node.lock pins the newest LTS first and one binary per supported line that package.json engines names; the Dockerfile builds on one', () => {
  const engines = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const supported = engines.split('||').map((range) => major(range.trim().replace(/^\^/, '')));
  const pinned = pinnedRuntimes().map((runtime) => major(runtime.version));
  assert.equal(pinned[0], Math.max(...supported), 'the first pinned binary (the suite\'s Node) is the newest supported line');
  for (const line of pinned) assert.ok(supported.includes(line), `Node ${line} is pinned but not in engines (${engines})`);
  assert.deepEqual(supported.filter((line) => !pinned.includes(line)), [20], 'every supported line but the machine\'s Node 20 is pinned');
  // The worker image too: a supported line that has not reached its end of life (20 has).
  const base = /^FROM node:(\d+)-/m.exec(readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8'));
  assert.ok(base && supported.includes(Number(base[1])) && Number(base[1]) !== 20, `Dockerfile base image: ${base?.[0]}`);
});
