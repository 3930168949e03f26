// Our metrics against an outside oracle: scikit-learn (roc_auc_score, roc_curve for KS, the threshold metrics, brier)
// and a PSI/CSI worked in numpy from the raw baseline values, on the same data, with many tied scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performanceMetrics, thresholdCurve } from '../../core/monitoring/metrics.js';
import { auc as aucMannWhitney, ks } from '../../core/ranking-metrics.js';
import { psi, stabilityIndex, numericBins } from '../../core/statistics/drift.js';
import { computeMonitoringTable, monitoringSettings } from '../../core/monitoring/table.js';
import { loadConfig } from '../../lib/config.js';
import { FEATURES, makeLoans, makeTempDir, metadataFor, runOracle, seeded, writeMetadata, writeMonth } from './fixtures.js';

const TOLERANCE = 1e-9;

const ORACLE = String.raw`
import json, sys
import numpy as np
from sklearn.metrics import (roc_auc_score, roc_curve, accuracy_score, precision_score, recall_score, f1_score,
                             brier_score_loss)

FLOOR = 1e-4
def psi(e, a):
    e = np.maximum(e, FLOOR); a = np.maximum(a, FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))

def numeric_props(values, edges, with_missing):
    present = np.array([v for v in values if v is not None], dtype=float)
    # right-closed bins (-inf, e0], (e0, e1], ..., (e_last, inf): index = number of edges strictly below the value
    counts = list(np.bincount(np.searchsorted(edges, present, side='left'), minlength=len(edges) + 1))
    total = len(present)
    if with_missing:
        counts.append(len(values) - len(present)); total = len(values)
    return np.array(counts, dtype=float) / total

def deciles(values):
    present = np.array([v for v in values if v is not None], dtype=float)
    return np.unique(np.quantile(present, [i / 10 for i in range(1, 10)]))

def categorical_props(values, categories):
    counts = [sum(1 for v in values if v == c) for c in categories]
    counts.append(sum(1 for v in values if v is not None and v not in categories))
    counts.append(sum(1 for v in values if v is None))
    return np.array(counts, dtype=float) / len(values)

d = json.load(sys.stdin)
base = d['baseline']
score_edges = deciles(base['p'])
income_edges = deciles(base['income'])
categories = sorted(set(v for v in base['occupation'] if v is not None))
out = []
for m in d['months']:
    y = np.array(m['y']); p = np.array(m['p']); yhat = (p >= d['threshold']).astype(int)
    fpr, tpr, _ = roc_curve(y, p)
    csi = {
        'income': psi(numeric_props(base['income'], income_edges, True), numeric_props(m['income'], income_edges, True)),
        'occupation': psi(categorical_props(base['occupation'], categories), categorical_props(m['occupation'], categories)),
    }
    worst = max(csi, key=lambda k: csi[k])
    out.append({
        'auc': float(roc_auc_score(y, p)), 'ks': float(np.max(np.abs(tpr - fpr))),
        'accuracy': float(accuracy_score(y, yhat)), 'precision': float(precision_score(y, yhat, zero_division=0)),
        'recall': float(recall_score(y, yhat, zero_division=0)), 'f1': float(f1_score(y, yhat, zero_division=0)),
        'brier': float(brier_score_loss(y, p)), 'default_rate': float(y.mean()), 'mean_p': float(p.mean()),
        'psi': psi(numeric_props(base['p'], score_edges, False), numeric_props(list(p), score_edges, False)),
        'max_csi': csi[worst], 'max_csi_feature': worst,
    })
print(json.dumps(out))
`;

interface OracleMonth {
  auc: number;
  ks: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  brier: number;
  default_rate: number;
  mean_p: number;
  psi: number;
  max_csi: number;
  max_csi_feature: string;
}

function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what} is NULL, expected ${expected}`);
  assert.ok(Math.abs(actual - expected) <= TOLERANCE, `${what}: ours ${actual} vs oracle ${expected} (diff ${Math.abs(actual - expected)})`);
}

test('PSI by hand: two bins, floors and the formula', () => {
  // expected 50/50, actual 80/20: (0.8−0.5)·ln(0.8/0.5) + (0.2−0.5)·ln(0.2/0.5)
  const byHand = 0.3 * Math.log(1.6) + -0.3 * Math.log(0.4);
  assert.ok(Math.abs(psi([0.5, 0.5], [0.8, 0.2]) - byHand) < 1e-15);
  assert.ok(Math.abs(byHand - 0.4158883083359672) < 1e-12);
  // an empty bin is floored at 1e-4 instead of giving an infinite PSI
  const floored = (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
  assert.ok(Math.abs(psi([0.5, 0.5], [0, 1]) - floored) < 1e-12);
  // outer bins are open: values far outside the baseline range fall in the first and last bins
  const bins = numericBins([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10, false);
  assert.equal(bins.edges.length, 9);
  assert.ok(stabilityIndex(bins, [-100, 1000]) > 0);
  assert.equal(stabilityIndex(bins, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 0);
});

test('AUC, KS and threshold metrics equal scikit-learn on tied scores', () => {
  const random = seeded(7);
  const loans = makeLoans('m', 3000, random, 1.8);
  const distinct = new Set(loans.map((loan) => loan.probability)).size;
  assert.ok(distinct < 120, `the data must have many ties, has ${distinct} distinct scores for 3000 loans`);
  const threshold = 0.3;
  const outcomes = loans.map((loan) => ({
    probability: loan.probability,
    label: loan.label,
    predicted: (loan.probability >= threshold ? 1 : 0) as 0 | 1,
  }));
  const ours = performanceMetrics(outcomes);
  const baseline = makeLoans('b', 2000, seeded(8), 1.8);
  const [oracle] = runOracle<OracleMonth[]>(ORACLE, {
    threshold,
    baseline: { p: baseline.map((l) => l.probability), income: baseline.map((l) => l.income), occupation: baseline.map((l) => l.occupation) },
    months: [{ y: loans.map((l) => l.label), p: loans.map((l) => l.probability), income: loans.map((l) => l.income), occupation: loans.map((l) => l.occupation) }],
  });
  near(ours.auc, oracle.auc, 'auc');
  near(ours.gini, 2 * oracle.auc - 1, 'gini');
  near(ours.ks, oracle.ks, 'ks');
  near(ours.accuracy, oracle.accuracy, 'accuracy');
  near(ours.precision, oracle.precision, 'precision');
  near(ours.recall, oracle.recall, 'recall');
  near(ours.f1, oracle.f1, 'f1');
  near(ours.brier, oracle.brier, 'brier');
  const scoreBins = numericBins(baseline.map((l) => l.probability), 10, false);
  near(stabilityIndex(scoreBins, loans.map((l) => l.probability)), oracle.psi, 'psi');
  assert.ok(oracle.auc > 0.6 && oracle.auc < 0.95, `a meaningful AUC, got ${oracle.auc}`);
});

test('AUC on a tiny hand-checked case with ties; undefined with one class', () => {
  // positives 0.8, 0.5; negatives 0.5, 0.2: pairs (0.8>0.5)=1, (0.8>0.2)=1, (0.5=0.5)=½, (0.5>0.2)=1 → 3.5/4
  assert.equal(aucMannWhitney([0.8, 0.5, 0.5, 0.2], [1, 1, 0, 0]), 0.875);
  const curve = thresholdCurve([0.8, 0.5, 0.5, 0.2], [1, 1, 0, 0]);
  assert.equal(ks([0.8, 0.5, 0.5, 0.2], [1, 1, 0, 0]), 0.5);
  assert.equal(curve.length, 4);
  assert.equal(aucMannWhitney([0.1, 0.2], [0, 0]), null);
  assert.equal(performanceMetrics([{ probability: 0.1, predicted: 0, label: 0 }]).auc, null);
});

test('the monitoring table equals the oracle month by month (end to end through Parquet)', async () => {
  const { dir, cleanup } = await makeTempDir();
  try {
    const datamartDir = `${dir}/datamart`;
    const modelBankDir = `${dir}/model_bank`;
    const modelId = 'oracle_model';
    const threshold = 0.35;
    const baseline = makeLoans('base', 4000, seeded(11), 2.5);
    await writeMetadata(modelBankDir, metadataFor(modelId, '2023-06', baseline, threshold));
    const months = ['2023-07', '2023-08', '2023-09'];
    const data = months.map((month, i) => makeLoans(month, 1500 + 250 * i, seeded(20 + i), 2.5 - 0.6 * i, 0.3 * i));
    for (const [i, month] of months.entries()) await writeMonth(datamartDir, modelId, month, data[i], threshold);
    const { rows } = await computeMonitoringTable(
      monitoringSettings(loadConfig({}), { datamartDir, modelBankDir }),
      '2024-03',
      modelId,
    );
    assert.deepEqual(rows.map((row) => row.snapshot_date), ['2023-07-01', '2023-08-01', '2023-09-01']);
    const oracle = runOracle<OracleMonth[]>(ORACLE, {
      threshold,
      baseline: { p: baseline.map((l) => l.probability), income: baseline.map((l) => l.income), occupation: baseline.map((l) => l.occupation) },
      months: data.map((loans) => ({
        y: loans.map((l) => l.label),
        p: loans.map((l) => l.probability),
        income: loans.map((l) => l.income),
        occupation: loans.map((l) => l.occupation),
      })),
    });
    for (const [i, row] of rows.entries()) {
      const expected = oracle[i];
      const where = row.snapshot_date;
      assert.equal(row.n_scored, data[i].length);
      assert.equal(row.n_labelled, data[i].length);
      near(row.auc, expected.auc, `${where} auc`);
      near(row.gini, 2 * expected.auc - 1, `${where} gini`);
      near(row.ks, expected.ks, `${where} ks`);
      near(row.accuracy, expected.accuracy, `${where} accuracy`);
      near(row.precision, expected.precision, `${where} precision`);
      near(row.recall, expected.recall, `${where} recall`);
      near(row.f1, expected.f1, `${where} f1`);
      near(row.brier, expected.brier, `${where} brier`);
      near(row.observed_default_rate, expected.default_rate, `${where} observed_default_rate`);
      near(row.mean_probability, expected.mean_p, `${where} mean_probability`);
      near(row.psi, expected.psi, `${where} psi`);
      near(row.max_csi, expected.max_csi, `${where} max_csi`);
      assert.equal(row.max_csi_feature, expected.max_csi_feature);
      assert.ok(FEATURES.includes(row.max_csi_feature!));
    }
    // the shifted months drift: PSI grows with the shift, and the last one is judged critical
    assert.ok(rows[0].psi < rows[2].psi, `PSI should grow with drift: ${rows.map((r) => r.psi)}`);
    assert.equal(rows[2].status, 'critical');
  } finally {
    await cleanup();
  }
});
