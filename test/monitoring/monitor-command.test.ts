// Issue 30 through the command a user runs, on the real sample and the real dev server: `npm run monitor` prints the
// estimated AUC and its band for every month, the backtest of the estimates on the mature months, and, as of a month
// long after the newest data (2026-12 on data ending 2024-12), a decision that names the stale data instead of
// "no finding".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowNotFoundError } from '@temporalio/client';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { promote } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import { monthRange } from '../../lib/months.js';
import { LIFECYCLE_WORKFLOW_ID } from '../../lib/temporal.js';
import { npmRun } from '../helpers/npm-process.js';
import { scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { sampleDatamart } from '../helpers/sample-cache.js';

const scratch = scratchConfig('monitor-command');
const { config } = scratch;
const MONTHS = monthRange('2023-01', '2024-12');
let env: TestWorkflowEnvironment;

before(async () => {
  env = await startTemporal();
  await sampleDatamart(config); // the ETL of every month
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-12' });
  const candidate = await trainCandidate({ trainingSet, family: 'gblinear' });
  const { modelId } = await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow: { workflowId: 'training-cli', runId: 'run' } });
  await promote(config.MODEL_BANK_DIR, modelId, 'test');
  for (const month of MONTHS) await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId });
});
after(async () => {
  await releaseScoringSessions();
  try {
    await env?.client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).terminate('test over'); // the command starts it
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  await env?.teardown();
  scratch.cleanup();
});

async function monitor(asOf: string): Promise<string> {
  const run = npmRun(['monitor', '--', '--as-of', asOf], {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    DATAMART_DIR: config.DATAMART_DIR,
    MODEL_BANK_DIR: config.MODEL_BANK_DIR,
    REPORTS_DIR: config.REPORTS_DIR,
  });
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  return run.output();
}

test('npm run monitor prints the estimated AUC of every month, the backtest, and stale data as a finding', async (t) => {
  await withWorker(env, config, async () => {
    const output = await monitor('2024-12');
    t.diagnostic(output);
    assert.match(output, /AUC est\. \[90%\]/);
    // the six immature months (2024-07..2024-12): no AUC, an estimate and its band
    for (const month of monthRange('2024-07', '2024-12')) {
      assert.match(output, new RegExp(`^${month}\\s+after\\s+\\d+\\s+0\\s+—\\s+0\\.\\d{3}\\s+—\\s+0\\.\\d{3} \\[0\\.\\d{3}–0\\.\\d{3}\\]`, 'm'), month);
    }
    assert.match(output, /^backtest of the estimated AUC on 18 mature month\(s\): mean \|realized − estimated\| 0\.0\d{3}, \d+\/18 \(\d+\.\d%\) inside the 90% band$/m);

    const stale = await monitor('2026-12');
    t.diagnostic(stale);
    assert.match(stale, /^decision: alert \(data: .*stale data: monitoring as of 2026-12, but the newest month with source rows is 2024-12, 24 month\(s\) earlier \(no data for 2025-01\.\.2026-12\)/m);
    assert.doesNotMatch(stale, /no finding/);
  });
});
