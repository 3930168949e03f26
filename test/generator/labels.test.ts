// Labels computed from the generated ledger with SPEC §2's definition carry the real data set's signal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSources } from '../../core/generator/index.js';
import { REAL_SAMPLE, applications, auc, fitLogistic, labelsFromLedger, readCsv, type Label } from './helpers.js';

const OUT = join(process.cwd(), '.test-tmp', 'generator', 'labels');
const TRUTH = join(OUT, 'truth.csv');

describe('labels from the generated ledger (SPEC §2: 30 dpd at installment 6)', () => {
  let labels: Label[];
  let byCustomer: Map<string, number>;

  before(async () => {
    await rm(OUT, { recursive: true, force: true });
    await generateSources({ customers: 4000, seed: 42, out: OUT, truthFile: TRUTH });
    labels = await labelsFromLedger(join(OUT, 'lms_loan_daily.csv'));
    byCustomer = new Map(labels.map((label) => [label.Customer_ID, label.label]));
  });
  after(() => rm(OUT, { recursive: true, force: true }));

  it('labels the loans that reach installment 6 by the end of the ledger: applications 2023-01..2024-06', () => {
    const months = [...new Set(labels.map((label) => label.application_month))].sort();
    assert.equal(months[0], '2023-01');
    assert.equal(months[months.length - 1], '2024-06');
  });

  it('gives a default rate near the real one (0.20–0.36), as the real sample does with the same SQL', async () => {
    const rate = labels.reduce((sum, label) => sum + label.label, 0) / labels.length;
    assert.ok(rate >= 0.2 && rate <= 0.36, `generated default rate ${rate}`);
    const real = await labelsFromLedger(join(REAL_SAMPLE, 'lms_loan_daily.csv'));
    const realRate = real.reduce((sum, label) => sum + label.label, 0) / real.length;
    assert.ok(realRate >= 0.2 && realRate <= 0.36, `real default rate ${realRate}`);
    assert.ok(Math.abs(rate - realRate) < 0.06, `generated ${rate} vs real ${realRate}`);
  });

  it('agrees with the drawn outcome for every labelled loan, and defaulters are far past due', () => {
    const truth = new Map(readCsv(TRUTH).rows.map((row) => [row.Customer_ID, Number(row.defaulted)]));
    for (const label of labels) {
      assert.equal(label.label, truth.get(label.Customer_ID), `${label.Customer_ID}`);
      if (label.label === 1) assert.ok(label.dpd >= 59, `${label.Customer_ID} dpd ${label.dpd}`);
      else assert.equal(label.dpd, 0);
    }
  });

  it("ranks defaulters with the generator's true probability at an AUC of 0.82–0.88", () => {
    const truth = readCsv(TRUTH).rows.filter((row) => byCustomer.has(row.Customer_ID));
    const value = auc(truth.map((row) => Number(row.true_probability)), truth.map((row) => byCustomer.get(row.Customer_ID)!));
    assert.ok(value >= 0.82 && value <= 0.88, `true-probability AUC ${value}`);
  });

  it('lets a plain model on the cleaned features reach an out-of-time AUC of 0.75–0.85', () => {
    const labelled = applications(OUT).filter((application) => byCustomer.has(application.id));
    const train = labelled.filter((application) => application.month <= '2023-12');
    const outOfTime = labelled.filter((application) => application.month >= '2024-01');
    const score = fitLogistic(train.map((a) => a.features), train.map((a) => byCustomer.get(a.id)!));
    const value = auc(outOfTime.map((a) => score(a.features)), outOfTime.map((a) => byCustomer.get(a.id)!));
    assert.ok(value >= 0.75 && value <= 0.85, `out-of-time AUC ${value}`);
  });
});
