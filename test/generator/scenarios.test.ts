// The scenarios do what they say: population-shift moves key features (PSI > 0.2), concept-drift breaks the
// link a pre-drift model learnt (its AUC drops below 0.70), and stable does neither.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { numericBins, stabilityIndex } from '../../core/statistics/drift.js';
import { generateSources, type Scenario } from '../../core/generator/index.js';
import { applications, auc, fitLogistic, labelsFromLedger, type Application } from './helpers.js';

const ROOT = join(process.cwd(), '.test-tmp', 'generator', 'scenarios');
const CUSTOMERS = 6000;
const DRIFT_FROM = '2024-01';
const KEY_FEATURES = ['log_income', 'interest_rate', 'log_debt', 'delay', 'fe_3'];

interface ScenarioData { applications: Application[]; labels: Map<string, number> }

async function scenarioData(scenario: Scenario): Promise<ScenarioData> {
  const out = join(ROOT, scenario);
  await generateSources({ customers: CUSTOMERS, seed: 11, out, scenario, driftFrom: DRIFT_FROM });
  const labels = await labelsFromLedger(join(out, 'lms_loan_daily.csv'));
  return { applications: applications(out), labels: new Map(labels.map((label) => [label.Customer_ID, label.label])) };
}

function featurePsi(data: ScenarioData, feature: string): number {
  const before = data.applications.filter((a) => a.month < DRIFT_FROM).map((a) => a.features[feature]);
  const afterDrift = data.applications.filter((a) => a.month >= DRIFT_FROM).map((a) => a.features[feature]);
  return stabilityIndex(numericBins(before), afterDrift);
}

/** AUC on post-drift labels of a model fitted on pre-drift applications. */
function preDriftModelAuc(data: ScenarioData): { before: number; after: number } {
  const labelled = data.applications.filter((a) => data.labels.has(a.id));
  const train = labelled.filter((a) => a.month < '2023-10');
  const holdout = labelled.filter((a) => a.month >= '2023-10' && a.month < DRIFT_FROM);
  const drifted = labelled.filter((a) => a.month >= DRIFT_FROM);
  const score = fitLogistic(train.map((a) => a.features), train.map((a) => data.labels.get(a.id)!));
  const measure = (set: Application[]) => auc(set.map((a) => score(a.features)), set.map((a) => data.labels.get(a.id)!));
  return { before: measure(holdout), after: measure(drifted) };
}

describe('generator scenarios', () => {
  const data = {} as Record<Scenario, ScenarioData>;
  before(async () => {
    await rm(ROOT, { recursive: true, force: true });
    for (const scenario of ['stable', 'population-shift', 'concept-drift'] as const) data[scenario] = await scenarioData(scenario);
  });
  after(() => rm(ROOT, { recursive: true, force: true }));

  it('population-shift: every key feature drifts (PSI > 0.2) after the drift month', () => {
    for (const feature of KEY_FEATURES) {
      const value = featurePsi(data['population-shift'], feature);
      assert.ok(value > 0.2, `${feature} PSI ${value}`);
    }
  });

  it('stable: no key feature drifts (PSI < 0.1)', () => {
    for (const feature of KEY_FEATURES) {
      const value = featurePsi(data.stable, feature);
      assert.ok(value < 0.1, `${feature} PSI ${value}`);
    }
  });

  it('concept-drift: a pre-drift model ranks post-drift defaults poorly (AUC < 0.70), features unmoved', () => {
    const { before: holdout, after: drifted } = preDriftModelAuc(data['concept-drift']);
    assert.ok(holdout > 0.75, `pre-drift holdout AUC ${holdout}`);
    assert.ok(drifted < 0.7, `post-drift AUC ${drifted}`);
    for (const feature of KEY_FEATURES) assert.ok(featurePsi(data['concept-drift'], feature) < 0.1, feature);
  });

  it('stable: the same pre-drift model keeps ranking well after the drift month (AUC > 0.75)', () => {
    const { after: drifted } = preDriftModelAuc(data.stable);
    assert.ok(drifted > 0.75, `post-drift AUC on stable ${drifted}`);
  });

  it('population-shift: the link is unchanged, so the pre-drift model still ranks well (AUC > 0.75)', () => {
    const { after: drifted } = preDriftModelAuc(data['population-shift']);
    assert.ok(drifted > 0.75, `post-drift AUC on population-shift ${drifted}`);
  });
});
