// The first hour as a new user lives it, through npm itself: `npm run demo -- --exit` leaves two models and the paused
// schedules, and every "try next" command it prints runs and exits 0 against `npm run server` + `npm run worker`
// restarted on the same database; SIGINT and SIGTERM sent to the npm process of the demo, the worker and the server
// stop them with nothing of their process tree left behind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, TEMPORAL_BINARY, freePort } from '../../workers/dev-server.js';
import { registrySchema } from '../../lib/contracts.js';
import { modelBank } from '../../lib/layout.js';
import { scheduleIds } from '../../lib/temporal.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';
import { isAlive, npmRun, type NpmRun } from '../helpers/npm-process.js';
import { scratchConfig } from '../helpers/temporal.js';

const run = promisify(execFile);
const scratch = scratchConfig('demo');
const started: NpmRun[] = [];
after(async () => {
  for (const npm of started) if (npm.process.exitCode === null && npm.process.signalCode === null) npm.process.kill('SIGKILL');
  for (const npm of started) for (const pid of npm.seen) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  scratch.cleanup();
});

async function environment(name: string): Promise<Record<string, string>> {
  const { config, dir } = scratch;
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_DB_FILE: join(dir, `${name}.db`),
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    DATAMART_DIR: join(dir, name, 'datamart'),
    MODEL_BANK_DIR: join(dir, name, 'model_bank'),
    REPORTS_DIR: join(dir, name, 'reports'),
  };
}

function start(args: string[], env: Record<string, string>): NpmRun {
  const npm = npmRun(args, env);
  started.push(npm);
  return npm;
}

/** Signals the npm process only and expects it and everything it started to be gone. */
async function stopWith(npm: NpmRun, signal: NodeJS.Signals, what: string): Promise<void> {
  npm.process.kill(signal);
  const timeout = new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`${what}: still running 90 s after ${signal}:\n${npm.output().slice(-2000)}`)), 90_000).unref());
  await Promise.race([npm.exited, timeout]);
  await new Promise((wait) => setTimeout(wait, 500)); // grandchildren reparented to init exit right after
  const left = [...npm.seen].filter(isAlive);
  assert.deepEqual(left, [], `${what}: processes left after ${signal} to npm: ${left.join(', ')}\n${npm.output().slice(-2000)}`);
}

test('npm run demo -- --exit: two models, paused schedules, and try-next commands that work', async () => {
  const env = await environment('exit');
  const demo = start(['demo', '--', '--exit', '--source', FIXTURE_DIR], env);
  const { code } = await demo.exited;
  const output = demo.output();
  assert.equal(code, 0, output.slice(-4000));
  assert.doesNotMatch(output, /npm warn/i);
  // The terminal tells the pipeline's story: no bundler report, no stack trace, no summary cell cut short.
  assert.doesNotMatch(output, /webpack|asset workflow-bundle|modules by path|Workflow bundle created/i, 'bundler output in the terminal');
  assert.doesNotMatch(output, /^\s+at .+:\d+:\d+\)?$/m, 'a stack trace in the terminal');
  const summary = output.slice(output.indexOf('stage'), output.indexOf('datamart:'));
  assert.doesNotMatch(summary, /…/, `a summary cell was cut:\n${summary}`);

  const registry = registrySchema.parse(JSON.parse(readFileSync(modelBank.registry(env.MODEL_BANK_DIR), 'utf8')));
  const models = new Set(registry.history.map((event) => event.model_id));
  assert.ok(models.size >= 2, `models in the registry: ${[...models].join(', ')}`);
  assert.doesNotMatch(output, /Web UI:/, 'no Web UI address for a server --exit stopped');

  // The server again on the same database, and a worker: the try-next commands act on what the demo built.
  const server = start(['server'], env);
  await server.waitFor('Ctrl-C to stop', 90_000);
  const worker = start(['worker'], env);
  await worker.waitFor('polling task queue');

  const { stdout: schedules } = await run(TEMPORAL_BINARY, ['schedule', 'list', '--address', env.TEMPORAL_ADDRESS, '--output', 'json']);
  const listed = (JSON.parse(schedules) as Array<{ scheduleId: string; info?: unknown; paused?: boolean }>);
  for (const id of [scheduleIds.monthlyPipeline, scheduleIds.weeklyMonitoring]) {
    const { stdout } = await run(TEMPORAL_BINARY, ['schedule', 'describe', '--schedule-id', id, '--address', env.TEMPORAL_ADDRESS, '--output', 'json']);
    assert.ok(listed.some((schedule) => schedule.scheduleId === id), `${id} listed`);
    assert.equal(JSON.parse(stdout).schedule.state.paused, true, `${id} paused`);
  }

  const tryNext = output.slice(output.indexOf('Try next')).split('\n').filter((line) => /^ {2}\S/.test(line)).map((line) => line.trim());
  const commands = tryNext.filter((line) => !line.startsWith('open '));
  assert.ok(commands.some((line) => line.includes('npm run promote')) && commands.some((line) => line.includes('npm run rollback')), tryNext.join('\n'));
  for (const line of commands) {
    const result = await run('sh', ['-c', line], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, timeout: 180_000 }).catch((error) => error);
    assert.equal(result.code ?? 0, 0, `${line}\n${result.stdout}\n${result.stderr}`);
  }
  const ui = tryNext.find((line) => line.startsWith('open '))!.slice('open '.length);
  assert.match(ui, /query=PipelinePhase%3D%22train%22/);
  assert.equal((await fetch(ui)).status, 200, ui);

  await stopWith(worker, 'SIGTERM', 'npm run worker');
  assert.match(worker.output(), /worker stopped/);
  await stopWith(server, 'SIGINT', 'npm run server');
});

test('SIGINT and SIGTERM to the npm process stop the demo, the worker and the server', async () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const env = await environment(`signal-${signal}`);
    const demo = start(['demo', '--', '--source', FIXTURE_DIR], env);
    await demo.waitFor('phase 1 ');
    await stopWith(demo, signal, 'npm run demo');
    assert.match(demo.output(), new RegExp(`${signal}: stopping the worker and the dev server`));

    const server = start(['server'], env);
    await server.waitFor('Ctrl-C to stop', 90_000);
    const worker = start(['worker'], env);
    await worker.waitFor('polling task queue');
    await stopWith(worker, signal, 'npm run worker');
    await stopWith(server, signal, 'npm run server');
    assert.equal((await server.exited).code, 0);
  }
});
