// Issue 34: two backfills of different source folders on one datamart overwrote each other's months and both reported
// success. Now one source folder at a time: of two started together, exactly one gives way (SourceFolderBusy) and the
// other's months are its own folder's; `npm run backfill` with another folder while one runs exits 2 naming it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { workflowIds } from '../../lib/temporal.js';
import { WorkflowFailure } from '../../lib/errors.js';
import { backfillWorkflow } from '../../workflows/backfill.js';
import { planMonths } from '../../core/datamart/plan.js';
import { causes } from '../../scripts/lib/causes.js';
import { changeOneLedgerRow, copySources } from '../helpers/sources.js';
import { scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';

const exec = promisify(execFile);
let env: TestWorkflowEnvironment;
const scratch = scratchConfig('source-lock');
const { config, dir } = scratch;

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
  scratch.cleanup();
});

const failureType = (error: unknown) => causes(error).map((cause) => (cause as { type?: unknown }).type).find((type) => typeof type === 'string');

test('backfills of two source folders on one datamart: one at a time, refused by the command and by the workflow', async () => {
  const first = copySources(join(dir, 'first'));
  const second = copySources(join(dir, 'second'));
  changeOneLedgerRow(second, '2023-02', '1');
  await withWorker(env, config, async () => {
    const start = (sourceDir: string) =>
      env.client.workflow.start(backfillWorkflow, {
        workflowId: workflowIds.backfill('2023-01', '2023-02', sourceDir),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ from: '2023-01', to: '2023-02', sourceDir }],
      });
    // Started together: exactly one gives way before it writes anything, naming the other.
    const handles = await Promise.all([start(first), start(second)]);
    const outcomes = await Promise.allSettled(handles.map((handle) => handle.result()));
    const refused = outcomes.flatMap((outcome, i) => (outcome.status === 'rejected' ? [{ i, error: outcome.reason as unknown }] : []));
    assert.equal(refused.length, 1, JSON.stringify(outcomes.map((o) => o.status)));
    const [{ i: loser, error }] = refused;
    assert.ok(error instanceof WorkflowFailedError);
    assert.equal(failureType(error), WorkflowFailure.SourceFolderBusy);
    const winner = 1 - loser;
    assert.match(causes(error).at(-1)!.message, new RegExp(`another backfill, ${handles[winner].workflowId} \\(source ${[first, second][winner]}\\)`));
    // The datamart's months are the winner's: 2023-02 (where the folders differ) is current for its folder, not the other's.
    const [winnerPlan] = await planMonths(config.DATAMART_DIR, [first, second][winner], ['2023-02']);
    const [loserPlan] = await planMonths(config.DATAMART_DIR, [first, second][loser], ['2023-02']);
    assert.equal(winnerPlan.current, true, winnerPlan.reason);
    assert.equal(loserPlan.current, false);

    // While a backfill runs, the command with another folder exits 2 naming it, before starting anything.
    const running = await env.client.workflow.start(backfillWorkflow, {
      workflowId: workflowIds.backfill('2023-01', '2023-06', first),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: '2023-01', to: '2023-06', sourceDir: first, force: true }],
    });
    const cli = await exec(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', '--from', '2023-01', '--to', '2023-02', '--source', second], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE, DATAMART_DIR: config.DATAMART_DIR, MODEL_BANK_DIR: config.MODEL_BANK_DIR },
    }).then(() => ({ code: 0, stderr: '' }), (failure: { code: number; stderr: string }) => failure);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, new RegExp(`refused: ${running.workflowId} is running on this datamart with source folder ${first}`));
    await running.cancel();
    await running.result().catch(() => undefined);
  });
});
