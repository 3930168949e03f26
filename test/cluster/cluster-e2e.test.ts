// The pipeline on a real Temporal cluster: `npm run cluster -- up` (Temporal 1.32.0 as four service processes on
// PostgreSQL, the Web UI) on private ports and a private state folder, three worker PROCESSES, phase 1 + phase 2 +
// monitoring over the real sample, the same results as on the dev server; then faults (history service SIGKILLed
// mid-backfill and restarted, a worker SIGKILLed, PostgreSQL restarted), each ending with the same data as the
// undisturbed run; then `down` leaves no process and `up` finds the workflows again. Skipped, loudly, only where
// PostgreSQL or Go cannot be had.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { monthRange } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import { TEMPORAL_BINARY } from '../../workers/dev-server.js';
import { clusterDown, livePids } from '../../scripts/cluster/lifecycle.js';
import { account, isAlive, runningAsRoot, runningPid, stateLayout } from '../../scripts/cluster/processes.js';
import { postgresPid, preparePostgres } from '../../scripts/cluster/postgres.js';
import { processName } from '../../scripts/cluster/services.js';
import { SERVER_SERVICES, type ClusterSettings } from '../../scripts/cluster/settings.js';
import { goldTableHash } from '../helpers/gold.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import {
  BACKFILL_ID, FROM, TO, Processes, outcome, progress, resultThroughOutages, runHistory, sleep, startBackfill, type RunOutcome,
} from '../chaos/harness.js';
import type { BackfillResult } from '../../workflows/backfill.js';
import {
  activityAttempts, clusterCommand, pipelineWorkflowIds, privateClusterSettings, processUid, runPipeline, whyNoCluster, type PipelineRun,
} from './harness.js';
import { waitUntil } from '../helpers/wait.js';

const execute = promisify(execFile);
const MONTHS = monthRange(FROM, TO);
const RUN_TIMEOUT = 6 * 60_000;
const TEST_TIMEOUT = RUN_TIMEOUT + 60_000;

const skipReason = await whyNoCluster();
if (skipReason) {
  console.log(`#\n# ######## CLUSTER END-TO-END TESTS SKIPPED: ${skipReason} ########\n#`);
}
const skip = skipReason ?? false;
/**
 * `npm test` runs one service fault (PostgreSQL's, the hardest: up must wait out the database's recovery) and the
 * worker fault; `npm run test:long` (TEST_LONG=1) adds the history, matching and frontend kills, each a backfill more.
 */
const skipUnlessLong = skip || (process.env.TEST_LONG === '1' ? false : 'one more service fault: npm run test:long runs it');

let settings: ClusterSettings;
let client: Client;
const processes = new Processes();
const scratches: Array<{ cleanup: () => void }> = [];

before(async () => {
  if (skip) return;
  settings = await privateClusterSettings();
  // Builds the server and UI on the first run on a machine (minutes), then seconds.
  const out = await clusterCommand(settings, 'up');
  console.log(out.split('\n').filter(Boolean).map((line) => `# ${line}`).join('\n'));
  client = await processes.client(settings.address);
});

after(async () => {
  if (skip) return;
  await processes.stopAll();
  if (settings) {
    await clusterDown(settings, () => undefined);
    rmSync(settings.stateDir, { recursive: true, force: true });
  }
  for (const scratch of scratches) scratch.cleanup();
});

function scratch(name: string) {
  const s = scratchConfig(`cluster-${name}`);
  scratches.push(s);
  return s;
}

interface Fingerprint {
  modelId: string | undefined;
  gold: RunOutcome['gold'];
  monitoring: string;
}

async function fingerprint(run: PipelineRun, datamartDir: string, gold: RunOutcome['gold']): Promise<Fingerprint> {
  return { modelId: run.backfill.training?.modelId, gold, monitoring: await goldTableHash(join(datamartDir, 'gold', 'monitoring')) };
}

async function temporalCli(...args: string[]): Promise<string> {
  const { stdout } = await execute(TEMPORAL_BINARY, [...args, '--address', settings.address, '--namespace', settings.namespace], { timeout: 30_000 });
  return stdout;
}

/** Waits until the backfill on the cluster has settled `months` months. */
async function untilMonthsDone(months: number): Promise<number> {
  return waitUntil(`${months} months of the backfill done`, async () => {
    const now = await progress(client);
    return now && now.done >= months ? now.done : undefined;
  }, { timeoutMs: RUN_TIMEOUT, intervalMs: 200 });
}

let reference: Fingerprint | undefined;
let clusterRun: RunOutcome | undefined;
let clusterBackfillRunId = '';

test('up: every part runs, bound to 127.0.0.1, Temporal and the UI unprivileged', { skip, timeout: 60_000 }, async () => {
  const status = await clusterCommand(settings, 'status');
  assert.match(status, /cluster health on .*: SERVING/);
  const layout = stateLayout(settings.stateDir);
  const pids = [...SERVER_SERVICES.map(processName.service), processName.ui].map((name) => [name, runningPid(layout, name)] as const);
  for (const [name, pid] of pids) assert.ok(pid, `${name} is not running:\n${status}`);
  assert.equal(new Set(pids.map(([, pid]) => pid)).size, 5, 'one process per service');
  const pg = postgresPid({ dataDir: join(settings.stateDir, 'postgres') });
  assert.ok(pg, 'PostgreSQL is not running');
  if (runningAsRoot()) {
    for (const [name, pid] of pids) assert.equal(processUid(pid!), account('nobody')!.uid, `${name} runs as nobody`);
    assert.equal(processUid(pg), account('postgres')!.uid, 'PostgreSQL runs as postgres');
  }
  const { stdout } = await execute('ss', ['-ltnpH']);
  const ours = new Set([...pids.map(([, pid]) => pid), pg]);
  const listening = stdout.split('\n').filter((line) => [...ours].some((pid) => line.includes(`pid=${pid},`)));
  assert.ok(listening.length >= 9, `listening sockets:\n${listening.join('\n')}`);
  for (const line of listening) assert.match(line.split(/\s+/)[3], /^127\.0\.0\.1:\d+$/, line);
  const ui = await fetch(settings.uiUrl);
  assert.equal(ui.status, 200);
});

test('reference: the pipeline on the dev server', { skip, timeout: TEST_TIMEOUT }, async () => {
  const { config } = scratch('reference');
  const env = await startTemporal();
  try {
    const run = await withWorker(env, config, () => runPipeline(env.client, config, FIXTURE_DIR, RUN_TIMEOUT));
    const result = await outcome(config, run.backfill, run.history, 0);
    reference = await fingerprint(run, config.DATAMART_DIR, result.gold);
  } finally {
    await env.teardown();
  }
  assert.ok(reference.modelId, 'the reference run trained a model');
});

test('the pipeline on the cluster with three worker processes equals the dev server run', { skip, timeout: TEST_TIMEOUT }, async () => {
  const { config } = scratch('fleet');
  const workers = await Promise.all([1, 2, 3].map(() => processes.worker(settings.address, config)));
  const t = Date.now();
  const run = await runPipeline(client, config, FIXTURE_DIR, RUN_TIMEOUT);
  const seconds = (Date.now() - t) / 1000;
  clusterRun = await outcome(config, run.backfill, run.history, seconds);
  clusterBackfills++;
  clusterBackfillRunId = (await client.workflow.getHandle(BACKFILL_ID).describe()).runId;
  console.log(`# cluster run with 3 workers: ${seconds.toFixed(1)} s, model ${run.backfill.training?.modelId}`);

  assert.deepEqual(run.backfill.failed, []);
  assert.equal(run.backfill.done.length, MONTHS.length);
  assert.equal(run.history.scored.length, MONTHS.length);
  assert.ok(run.monitoring.months > 0, 'monitoring saw months');
  assert.ok(reference, 'the dev server reference did not complete');
  assert.deepEqual(await fingerprint(run, config.DATAMART_DIR, clusterRun.gold), reference, 'model id, gold tables and monitoring equal the dev server run');

  // Every worker process did work: the identities of the activities' attempts (pid@host) over every child workflow.
  const { identities } = await activityAttempts(client, pipelineWorkflowIds(run.backfill));
  console.log(`# activity attempts per worker identity: ${JSON.stringify(identities)}`);
  assert.deepEqual(Object.keys(identities).map((identity) => identity.split('@')[0]).sort(), workers.map((worker) => String(worker.pid)).sort());

  // SQL visibility with the custom search attributes: the month workflows by PipelinePhase.
  const listed = JSON.parse(await temporalCli('workflow', 'list', '--query', `PipelinePhase='etl' AND TaskQueue='${config.TEMPORAL_TASK_QUEUE}'`, '--output', 'json')) as Array<{ execution: { workflowId: string } }>;
  assert.deepEqual(listed.map((row) => row.execution.workflowId).sort(), MONTHS.map(workflowIds.month).sort());
  await Promise.all(workers.map((worker) => worker.stop()));
});

/** A backfill + phase 2 with two worker processes, disturbed by `disturb` once `afterMonths` months are done. */
/** The backfills run on the cluster so far (the undisturbed one and each fault's), each of every month. */
let clusterBackfills = 0;

async function faultRun(name: string, afterMonths: number, disturb: (workers: Awaited<ReturnType<Processes['worker']>>[]) => Promise<string>): Promise<RunOutcome> {
  clusterBackfills++;
  const { config } = scratch(name);
  const workers = await Promise.all([1, 2].map(() => processes.worker(settings.address, config)));
  const t = Date.now();
  await startBackfill(client, config, FIXTURE_DIR);
  const done = await untilMonthsDone(afterMonths);
  const what = await disturb(workers);
  const result = await resultThroughOutages<BackfillResult>(client, BACKFILL_ID, RUN_TIMEOUT);
  const history = await runHistory(client, config, RUN_TIMEOUT);
  const seconds = (Date.now() - t) / 1000;
  const { retries } = await activityAttempts(client, pipelineWorkflowIds(result));
  console.log(`# ${name}: ${what} after ${done} months; ${seconds.toFixed(1)} s; retried attempts ${JSON.stringify(retries)}`);
  await Promise.all(workers.map((worker) => worker.stop()));
  return outcome(config, result, history, seconds);
}

function assertSameAsClusterRun(run: RunOutcome): void {
  assert.ok(clusterRun, 'the undisturbed cluster run did not complete');
  assert.deepEqual(run.result.failed, []);
  assert.deepEqual([...run.result.done, ...run.result.skipped].sort(), MONTHS);
  assert.equal(run.result.training?.modelId, clusterRun.result.training?.modelId, 'the same model');
  assert.deepEqual(run.models, clusterRun.models, 'one model folder, registered once');
  assert.deepEqual(run.partitions, clusterRun.partitions, 'partition folders per table');
  assert.deepEqual(run.history.failed, []);
  assert.deepEqual(run.gold, clusterRun.gold, 'gold content (feature_store, label_store, predictions)');
}

test('history service SIGKILLed mid-backfill and restarted', { skip: skipUnlessLong, timeout: TEST_TIMEOUT }, async () => {
  const layout = stateLayout(settings.stateDir);
  const run = await faultRun('history-kill', 6, async () => {
    const pid = runningPid(layout, processName.service('history'));
    assert.ok(pid, 'history is not running');
    await hardKill(pid);
    await sleep(1000);
    await clusterCommand(settings, 'up');
    const restarted = runningPid(layout, processName.service('history'));
    assert.ok(restarted && restarted !== pid, 'up restarted the history service');
    return `history (pid ${pid}) SIGKILLed, restarted as pid ${restarted}`;
  });
  assertSameAsClusterRun(run);
  assert.deepEqual(run.leftovers, [], 'no worker was killed, so no write was cut short');
});

test('one of two workers SIGKILLed mid-backfill', { skip, timeout: TEST_TIMEOUT }, async () => {
  const run = await faultRun('worker-kill', 5, async (workers) => {
    await sleep(300);
    await workers[0].kill();
    return `worker pid ${workers[0].pid} SIGKILLed (not restarted)`;
  });
  assertSameAsClusterRun(run);
  // A write cut short by the kill may leave its temp file (readers never see it): the chaos suite tracks that.
  if (run.leftovers.length > 0) console.log(`# temp files left by the killed worker: ${run.leftovers.join(', ')}`);
});

/** SIGKILLs a process and waits until it is gone. */
async function hardKill(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

/** `up` (with one pipeline worker of its own) must exit 0 and leave the UI answering and its worker running. */
async function upRestoresEverything(): Promise<void> {
  await clusterCommand(settings, 'up', '--workers', '1');
  const layout = stateLayout(settings.stateDir);
  assert.equal((await fetch(settings.uiUrl)).status, 200, 'the Web UI answers after up');
  assert.ok(runningPid(layout, processName.worker(1), 'node'), 'the pipeline worker runs after up');
  for (const service of SERVER_SERVICES) assert.ok(runningPid(layout, processName.service(service)), `${service} runs after up`);
}

test('PostgreSQL SIGKILLed mid-backfill; up three times in a row right after', { skip, timeout: TEST_TIMEOUT }, async () => {
  const postgres = await preparePostgres(settings, stateLayout(settings.stateDir), () => undefined);
  const run = await faultRun('postgres-kill', 6, async () => {
    const before = postgresPid(postgres);
    assert.ok(before, 'PostgreSQL is not running');
    await hardKill(before);
    // Right after a database crash the services answer "no usable database connection found" for a moment: up must
    // wait that out, not read it as a missing namespace (which failed 3 of 5 tries), and go on to the UI and workers.
    for (let attempt = 1; attempt <= 3; attempt++) await upRestoresEverything();
    const now = postgresPid(postgres);
    assert.ok(now && now !== before, 'up started PostgreSQL again');
    return `PostgreSQL postmaster (pid ${before}) SIGKILLed, up x3, PostgreSQL pid ${now}`;
  });
  assertSameAsClusterRun(run);
  assert.deepEqual(run.leftovers, [], 'no worker was killed, so no write was cut short');
});

test('matching and frontend services SIGKILLed mid-backfill, up after each', { skip: skipUnlessLong, timeout: TEST_TIMEOUT }, async () => {
  const layout = stateLayout(settings.stateDir);
  const run = await faultRun('matching-frontend-kill', 4, async () => {
    const killed: string[] = [];
    for (const service of ['matching', 'frontend'] as const) {
      const pid = runningPid(layout, processName.service(service));
      assert.ok(pid, `${service} is not running`);
      await hardKill(pid);
      await sleep(1000);
      await upRestoresEverything();
      const restarted = runningPid(layout, processName.service(service));
      assert.ok(restarted && restarted !== pid, `up restarted ${service}`);
      killed.push(`${service} (pid ${pid} -> ${restarted})`);
      if (service === 'matching') await untilMonthsDone(8);
    }
    return `SIGKILLed and restarted ${killed.join(', ')}`;
  });
  assertSameAsClusterRun(run);
  assert.deepEqual(run.leftovers, [], 'no worker was killed, so no write was cut short');
});

test('down leaves no process; up finds the earlier workflows', { skip, timeout: 5 * 60_000 }, async () => {
  await Promise.all(processes.connections.map((connection) => connection.close()));
  processes.connections = [];
  const before = livePids(settings);
  assert.ok(before.length >= 6, `pids before down: ${before.join(', ')}`);
  await clusterCommand(settings, 'down');
  assert.deepEqual(livePids(settings), []);
  for (const pid of before) assert.equal(isAlive(pid), false, `pid ${pid} survived down`);

  await clusterCommand(settings, 'up');
  client = await processes.client(settings.address);
  const described = await client.workflow.getHandle(BACKFILL_ID, clusterBackfillRunId).describe();
  assert.equal(described.status.name, 'COMPLETED');
  const count = await client.workflow.count(`PipelinePhase='etl'`);
  assert.ok(clusterBackfills >= 2 && count.count >= MONTHS.length * clusterBackfills, `month workflows after up: ${count.count} for ${clusterBackfills} backfills of ${MONTHS.length} months`);
});
