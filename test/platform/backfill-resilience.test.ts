// Issue 12's disturbances with real processes: a dev server persisting to a db file (killed and restarted on the same
// port and db) and two worker processes (one SIGKILLed), over 2023-01..2023-12 of the real sample.
// 1. Cancelling a backfill while its activities run stops every one within seconds (each cancel request in the
//    histories is followed by the activity's close, heartbeat-observed for the running ones) and leaves nothing
//    half-written.
// 2. While `npm run backfill` of the sample waits, the server is killed and restarted: the command exits 0 with the
//    result; the worker running training is SIGKILLed: training is retried on the other worker and finishes within
//    60 s of the kill (heartbeat timeout 10 s).
// 3. The client's own reconnect loop (resultThroughOutages) on a connection without the SDK's retries: it waits
//    through the outage, saying so, and returns the workflow's outcome.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledFailure, Client, Connection, TerminatedFailure, WorkflowFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { resampleSources } from '../../core/generator/resample.js';
import { SOURCES } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import { readLineage } from '../../core/datamart/lineage.js';
import type { DevServer } from '../../workers/dev-server.js';
import type { WorkerChild } from '../../workers/worker-process.js';
import { eventMs } from '../../tools/bench/history-timing.js';
import { backfillWorkflow, type BackfillResult } from '../../workflows/backfill.js';
import { resultThroughOutages } from '../../scripts/client.js';
import { modelProblems, Processes, sleep, temporaryLeftovers } from '../chaos/harness.js';
import { isAlive, npmRun, type NpmRun } from '../helpers/npm-process.js';
import { FIXTURE_DIR, scratchConfig } from '../helpers/temporal.js';
import { waitUntil } from '../helpers/wait.js';

const FROM = '2023-01';
const TO = '2023-12';
const MONTHS = monthRange(FROM, TO);
const TRAINING_ID = workflowIds.training(TO, 1);
const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
/** Seconds within which an activity may still complete after its cancel request: its next heartbeat, and some slack. */
const HEARTBEAT_GRACE_S = 3;

const scratch = scratchConfig('resilience');
const { config } = scratch;
const processes = new Processes();
let server: DevServer;
let client: Client;
let workers: WorkerChild[];
let npm: NpmRun | undefined;

before(async () => {
  server = await processes.server(scratch.dir);
  client = await processes.client(server.address);
  workers = await Promise.all([processes.worker(server.address, config), processes.worker(server.address, config)]);
});
after(async () => {
  if (npm && npm.process.exitCode === null && npm.process.signalCode === null) npm.process.kill('SIGKILL');
  for (const pid of npm?.seen ?? []) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await processes.stopAll();
  scratch.cleanup();
});

/** SIGKILLs the dev server and starts it again on the same port and database after `downMs`. */
async function restartServer(downMs: number): Promise<void> {
  const port = Number(server.address.split(':').pop());
  const exited = new Promise((gone) => server.process.once('exit', gone));
  server.process.kill('SIGKILL');
  await exited;
  await sleep(downMs);
  server = await processes.server(scratch.dir, port);
}

/** Waits for `probe` to give a value; a probe failing while a server restarts counts as not yet. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<NonNullable<T>> {
  return (await waitUntil(what, () => probe().catch(() => undefined), { timeoutMs, intervalMs: 200 })) as NonNullable<T>;
}

/** Activities started on a worker right now, under the running workflows of this test's task queue. */
async function startedActivities(where = ''): Promise<Array<{ workflowId: string; activity: string; worker: string }>> {
  const found: Array<{ workflowId: string; activity: string; worker: string }> = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = '${config.TEMPORAL_TASK_QUEUE}' AND ExecutionStatus = 'Running'${where}` })) {
    const { raw } = await client.workflow.getHandle(execution.workflowId, execution.runId).describe();
    for (const pending of raw.pendingActivities ?? []) {
      if (pending.state === STARTED) found.push({ workflowId: execution.workflowId, activity: pending.activityType?.name ?? '?', worker: pending.lastWorkerIdentity ?? '' });
    }
  }
  return found;
}

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
async function historiesOnQueue(): Promise<Array<{ workflowId: string; events: HistoryEvent[] }>> {
  const histories = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = '${config.TEMPORAL_TASK_QUEUE}'` })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    histories.push({ workflowId: execution.workflowId, events: history.events ?? [] });
  }
  return histories;
}

const at = (event: HistoryEvent) => eventMs(event.eventTime as Parameters<typeof eventMs>[0]);
/** The event that closed the activity scheduled as `scheduledEventId`, if any. */
function activityClose(events: HistoryEvent[], scheduledEventId: number): HistoryEvent | undefined {
  return events.find((event) => {
    const close =
      event.activityTaskCanceledEventAttributes ??
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes;
    return close && Number(close.scheduledEventId) === scheduledEventId;
  });
}

/** Every data.parquet of bronze, silver and gold without a readable _lineage.json beside it. */
async function partitionsWithoutLineage(datamartDir: string): Promise<string[]> {
  const tables = [
    ...SOURCES.flatMap((source) => [join('bronze', source), join('silver', source)]),
    join('gold', 'feature_store'),
    join('gold', 'label_store'),
  ];
  const missing: string[] = [];
  for (const table of tables) {
    let entries: string[];
    try {
      entries = readdirSync(join(datamartDir, table));
    } catch {
      continue;
    }
    for (const partition of entries.filter((name) => name.startsWith('snapshot_date='))) {
      const file = join(datamartDir, table, partition, 'data.parquet');
      if (!readdirSync(join(datamartDir, table, partition)).includes('data.parquet')) continue;
      if (!(await readLineage(file))) missing.push(join(table, partition));
    }
  }
  return missing;
}

test('cancelling a backfill while its activities run stops every one within seconds; nothing half-written', async () => {
  // The sample replicated tenfold: staging its files (the first planMonths of each month lane, sharing one build) takes
  // seconds, so the cancellation reaches activities that are running; the sample's own month ETL steps take ~0.1 s.
  const sourceDir = join(scratch.dir, 'sources-x10');
  await resampleSources({ source: FIXTURE_DIR, out: sourceDir, factor: 10 });
  const handle = await client.workflow.start(backfillWorkflow, {
    workflowId: workflowIds.backfill(FROM, TO, sourceDir),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ from: FROM, to: TO, trainAt: TO, sourceDir }],
  });
  // Data work, not the quick join to the backfill coordinator that comes first (not cancellable, by design).
  const running = await until('activities running', 120_000, async () => {
    const started = (await startedActivities()).filter((activity) => activity.activity !== 'joinBackfills');
    return started.length >= 1 ? started : undefined;
  });
  await handle.cancel();
  const failure = await handle.result().then(() => assert.fail('the backfill completed after its cancellation'), (error: unknown) => error);
  assert.ok(failure instanceof WorkflowFailedError && failure.cause instanceof CancelledFailure, String(failure));
  // Every month pipeline closed with it (children are cancelled and awaited); visibility may lag a moment behind.
  const stillRunning = async () => {
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${config.TEMPORAL_TASK_QUEUE}' AND ExecutionStatus = 'Running'` })) {
      ids.push(`${execution.workflowId} (${execution.type})`);
    }
    return ids;
  };
  await until('no workflow running on the queue', 10_000, async () => ((await stillRunning()).length === 0 ? true : undefined)).catch(() => undefined);
  assert.deepEqual(await stillRunning(), [], 'every month pipeline closed');

  // Each cancel request is followed by the activity's close within seconds; an activity running on a worker saw the
  // cancellation at a heartbeat and reported it (ActivityTaskCanceled with a started event). One at its last step may
  // still complete: that too within the seconds.
  let requests = 0;
  let observedByWorkers = 0;
  for (const { workflowId, events } of await historiesOnQueue()) {
    // After the workflow's own cancel request nothing new starts and everything running closes within seconds.
    const cancelled = events.find((event) => event.workflowExecutionCancelRequestedEventAttributes);
    if (cancelled) {
      for (const event of events.filter((e) => Number(e.eventId) > Number(cancelled.eventId))) {
        assert.ok(!event.activityTaskScheduledEventAttributes, `${workflowId}: activity ${event.eventId} scheduled after the cancel request`);
        const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskCanceledEventAttributes ?? event.activityTaskFailedEventAttributes;
        if (closed) assert.ok(at(event) - at(cancelled) <= 10_000, `${workflowId}: activity ${closed.scheduledEventId} closed ${((at(event) - at(cancelled)) / 1000).toFixed(1)} s after the cancel request`);
      }
    }
    for (const request of events.filter((event) => event.activityTaskCancelRequestedEventAttributes)) {
      requests++;
      const scheduledEventId = Number(request.activityTaskCancelRequestedEventAttributes!.scheduledEventId);
      const close = activityClose(events, scheduledEventId);
      const scheduled = events.find((event) => Number(event.eventId) === scheduledEventId)?.activityTaskScheduledEventAttributes?.activityType?.name;
      const after = events.filter((event) => Number(event.eventId) >= Number(request.eventId)).map((event) => `${event.eventId} ${proto.temporal.api.enums.v1.EventType[event.eventType!]}`);
      assert.ok(close, `${workflowId}: activity ${scheduledEventId} (${scheduled}) never closed after its cancel request:\n${after.join('\n')}`);
      const seconds = (at(close) - at(request)) / 1000;
      assert.ok(seconds <= 10, `${workflowId}: activity ${scheduledEventId} closed ${seconds.toFixed(1)} s after its cancel request`);
      // Completing normally is fine only for an activity that was at its end anyway: one still running at its next
      // heartbeat (flushed at most a second apart) must stop by the cancellation instead.
      if (close.activityTaskCompletedEventAttributes) {
        assert.ok(seconds <= HEARTBEAT_GRACE_S, `${workflowId}: activity ${scheduledEventId} (${scheduled}) ran to its end ${seconds.toFixed(1)} s after its cancel request`);
      }
      if (Number(close.activityTaskCanceledEventAttributes?.startedEventId ?? 0) > 0) observedByWorkers++;
    }
  }
  assert.ok(requests >= 1, 'no activity was running when the cancellation arrived');
  assert.ok(observedByWorkers >= 1, 'no running activity reported its cancellation');
  for (const worker of workers) assert.doesNotMatch(worker.output(), /Activity not found on completion/);

  // Nothing half-written: no temp file, every partition with data has its lineage. (A staging build other callers share
  // finishes in the background: whole, or not at all.)
  await until('background staging finished', 30_000, async () => (temporaryLeftovers(config.DATAMART_DIR).length === 0 ? true : undefined)).catch(() => undefined);
  assert.deepEqual(temporaryLeftovers(config.DATAMART_DIR), []);
  assert.deepEqual(await partitionsWithoutLineage(config.DATAMART_DIR), []);
  console.log(`# cancelled with ${running.length} activities running (${running.map((a) => `${a.workflowId}/${a.activity}`).join(', ')}); ${requests} cancel requests, ${observedByWorkers} observed by workers`);
});

test('npm run backfill waits through a server restart and exits 0; a worker SIGKILLed during training: retried and finished within 60 s', async (t) => {
  npm = npmRun(['backfill', '--', '--from', FROM, '--to', TO, '--train-at', TO, '--source', FIXTURE_DIR], {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    DATAMART_DIR: config.DATAMART_DIR,
    MODEL_BANK_DIR: config.MODEL_BANK_DIR,
    REPORTS_DIR: config.REPORTS_DIR,
    CLIENT_RECONNECT_SECONDS: '180',
  });
  await npm.waitFor(/\] \d+\/12/, 120_000); // the progress line: the workflow runs and the command waits for it

  // The server dies and comes back on the same port and database while the command waits.
  await restartServer(2000);

  // The worker running a training candidate dies; the other worker takes the retry after the heartbeat timeout.
  const training = await until('a training candidate running', 240_000, async () => (await startedActivities(` AND WorkflowId = '${TRAINING_ID}'`)).find((a) => a.activity === 'trainCandidate'));
  const victim = workers.find((worker) => training.worker.startsWith(`${worker.pid}@`));
  assert.ok(victim, `no worker of this test runs the training (${training.worker})`);
  const killedAt = Date.now();
  await victim.kill();

  const { code } = await npm.exited;
  const output = npm.output();
  assert.equal(code, 0, output.slice(-3000));
  // The result as JSON, then the summary's last line: the model in production after the run.
  const start = output.indexOf('\n{') + 1;
  const end = output.indexOf('\n}\n', start) + 2;
  const result = JSON.parse(output.slice(start, end)) as BackfillResult;
  assert.match(output.slice(end), new RegExp(`production model after this run: ${result.training?.modelId}`));

  await t.test('the command exits 0 with the result after the server restart', () => {
    assert.deepEqual(result.failed, []);
    assert.deepEqual([...result.done, ...result.skipped].sort(), MONTHS);
    assert.deepEqual([...result.done].sort(), MONTHS, 'every month built from these sources');
    assert.equal(result.training?.promoted, true, result.training?.reason);
    console.log(`# server restarted while npm run backfill waited; output mentions the outage: ${/server unreachable/.test(output)}`);
  });

  await t.test('training retried on the other worker and finished within 60 s of the kill', async () => {
    const history = (await client.workflow.getHandle(TRAINING_ID).fetchHistory()).events ?? [];
    const completed = history.find((event) => event.workflowExecutionCompletedEventAttributes);
    assert.ok(completed, 'the training workflow completed');
    const retried = history.filter((event) => {
      const started = event.activityTaskStartedEventAttributes;
      return started && started.attempt! >= 2 && /heartbeat/i.test(started.lastFailure?.message ?? '');
    });
    assert.ok(retried.length >= 1, 'a training activity was retried after a heartbeat timeout');
    for (const started of retried) {
      const close = activityClose(history, Number(started.activityTaskStartedEventAttributes!.scheduledEventId));
      assert.ok(close?.activityTaskCompletedEventAttributes, 'the retried activity completed');
      const seconds = (at(close) - killedAt) / 1000;
      assert.ok(seconds <= 60, `retried activity completed ${seconds.toFixed(1)} s after the kill`);
    }
    const seconds = (at(completed) - killedAt) / 1000;
    assert.ok(seconds <= 60, `training finished ${seconds.toFixed(1)} s after the kill`);
    console.log(`# worker killed during ${training.activity}; training finished ${seconds.toFixed(1)} s later`);
  });

  await t.test('nothing half-written: no temp file, lineage everywhere, each model registered once', async () => {
    assert.deepEqual(temporaryLeftovers(config.DATAMART_DIR), []);
    assert.deepEqual(temporaryLeftovers(config.MODEL_BANK_DIR), []);
    assert.deepEqual(await partitionsWithoutLineage(config.DATAMART_DIR), []);
    assert.deepEqual(modelProblems(config.MODEL_BANK_DIR).problems, []);
  });
});

test('a waiting client reaches the workflow outcome through an outage its connection does not retry', async (t) => {
  // A backfill on a queue no worker polls: it waits until the test terminates it after the outage.
  const workflowId = 'outage-probe';
  await client.workflow.start(backfillWorkflow, { workflowId, taskQueue: `${config.TEMPORAL_TASK_QUEUE}-unpolled`, args: [{ from: FROM, to: FROM, sourceDir: FIXTURE_DIR }] });
  // Without the SDK's retry interceptor every connection loss reaches resultThroughOutages (with it, outages shorter
  // than its ~20 s of retries never do, as in the npm run backfill test above).
  const connection = await Connection.connect({ address: server.address, interceptors: [] });
  processes.connections.push(connection);
  const messages = t.mock.method(console, 'error', () => undefined);
  const waiting = resultThroughOutages(new Client({ connection }).workflow.getHandle(workflowId), 60_000);
  waiting.catch(() => undefined);
  await sleep(1000);
  await restartServer(3000);
  await client.workflow.getHandle(workflowId).terminate('outage test over');
  await assert.rejects(waiting, (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof TerminatedFailure);
  const printed = messages.mock.calls.map((call) => String(call.arguments[0]));
  assert.ok(printed.some((line) => /server unreachable \(\d+ s\), the workflow goes on; retrying/.test(line)), printed.join('\n'));
});
