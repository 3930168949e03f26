// The other side of issue 14's coverage rule: when every source still covers the applications but the population
// itself shifts (generator scenario population-shift), the score PSI on the covered rows — all of them — is a critical
// drift finding, no data finding explains it away, and governance decides to retrain (new labelled months exist).
// Through the functions the activities run; the workflow that turns `retrain` into a request is the concept-drift test's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createMonitoringActivities } from '../../activities/monitoring.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { generateSources } from '../../core/generator/index.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { promote } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { scoreMonth } from '../../core/scoring/score-month.js';
import type { MonitoringRow } from '../../lib/contracts.js';
import { monthRange } from '../../lib/months.js';
import { scratchConfig } from '../helpers/temporal.js';

const scratch = scratchConfig('population-shift');
const { config } = scratch;
const MONTHS = monthRange('2023-01', '2024-06');
/** Labels mature by 2024-04: applications up to 2023-10, so 2023-11 and 2023-12 are new labelled months by 2024-06. */
const TRAIN_AT = '2024-04';
const AS_OF = '2024-06';
let modelId = '';
let rows: MonitoringRow[] = [];

before(async () => {
  const sourceDir = join(scratch.dir, 'raw');
  await generateSources({ customers: 6000, seed: 11, scenario: 'population-shift', driftFrom: '2024-01', to: '2024-07', out: sourceDir });
  for (const month of MONTHS) {
    await materializeMonth({ datamartDir: config.DATAMART_DIR, sourceDir, month, maxQuarantineShare: config.MAX_QUARANTINE_SHARE });
  }
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: TRAIN_AT });
  const candidate = await trainCandidate({ trainingSet, family: 'gblinear' });
  modelId = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow: { workflowId: 'training-shift', runId: 'run' } })).modelId;
  await promote(config.MODEL_BANK_DIR, modelId, 'test');
  for (const month of MONTHS) await scoreMonth({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, month, modelId });
  rows = (await createMonitoringActivities(config).computeMonitoring({ asOf: AS_OF, modelId })).rows;
});
after(async () => {
  await releaseScoringSessions();
  scratch.cleanup();
});

test('population shift with constant coverage: a critical PSI finding and a retrain, no data finding', async (t) => {
  const latest = rows.at(-1)!;
  for (const row of rows) t.diagnostic(`${row.snapshot_date} ${row.window}: PSI ${row.psi.toFixed(3)} covered ${row.n_covered}/${row.n_scored}, ${row.coverage_source ?? '-'}`);
  assert.equal(latest.snapshot_date, '2024-06-01');
  assert.equal(latest.window, 'after');
  assert.equal(latest.n_covered, latest.n_scored, 'every source covers every application: nothing to explain away');
  assert.equal(latest.psi_covered, latest.psi);
  assert.ok(latest.psi >= config.PSI_CRITICAL, `score PSI ${latest.psi} after the shift`);
  const beforeShift = rows.filter((row) => row.window === 'after' && row.snapshot_date < '2024-01-01');
  assert.ok(beforeShift.every((row) => row.psi < config.PSI_WARNING), `before the shift the score is stable: ${beforeShift.map((r) => r.psi.toFixed(3))}`);

  const decision = await createMonitoringActivities(config).decideGovernance({ asOf: AS_OF, modelId, workflowId: 'monitoring-2024-06', now: '2024-07-01T06:00:00.000Z' });
  assert.equal(decision.action, 'retrain', decision.reason);
  assert.deepEqual(decision.findings.filter((finding) => finding.kind === 'data').map((f) => f.message), [], 'no data finding');
  const psi = decision.findings.find((finding) => finding.metric === 'psi');
  assert.ok(psi && psi.kind === 'drift' && psi.severity === 'critical', JSON.stringify(decision.findings));
  assert.match(decision.reason, /^critical: score PSI [0-9.]+ of 2024-06-01 is at or above the critical 0\.2/);
});
