// Small datamarts and model banks for the monitoring tests: predictions, labels and features of the shapes the other
// stages write, built from a seeded generator so every number is reproducible and checkable by the oracle.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { withDuckDB, writeParquetAtomic, sqlString } from '../../core/duckdb.js';
import { computeBaseline } from '../../core/statistics/drift.js';
import type { ModelMetadata } from '../../lib/contracts.js';
import { datamart, modelBank, partitionFile } from '../../lib/layout.js';
import { addMonths, snapshotDate, type Month } from '../../lib/months.js';
import { writeOnlinePredictions } from '../../core/serving/online-predictions.js';

export const TMP_ROOT = join(process.cwd(), '.test-tmp', 'monitoring');
export const ORACLE_PYTHON = join(process.cwd(), '.tools', 'oracle', 'bin', 'python');

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  await mkdir(TMP_ROOT, { recursive: true });
  const dir = await mkdtemp(join(TMP_ROOT, 'case-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export { seededRandom as seeded } from '../helpers/random.js';

export interface LoanRow {
  loan_id: string;
  probability: number;
  label: 0 | 1;
  income: number | null;
  occupation: string | null;
}

/**
 * `count` loans: a latent risk drives both the label and the score, `separation` controls how well (AUC), `shift`
 * moves every score up (drift). Scores are rounded to 2 decimals so that many tie, as the oracle test needs.
 */
export function makeLoans(prefix: string, count: number, random: () => number, separation = 2.5, shift = 0): LoanRow[] {
  const loans: LoanRow[] = [];
  for (let i = 0; i < count; i++) {
    const label: 0 | 1 = random() < 0.25 ? 1 : 0;
    const noise = (random() + random() + random() - 1.5) * 2;
    const logit = -1.5 + separation * (label - 0.25) + noise + shift;
    const probability = Math.round((1 / (1 + Math.exp(-logit))) * 100) / 100;
    const occupations = ['Engineer', 'Teacher', 'Lawyer', 'Doctor'];
    loans.push({
      loan_id: `${prefix}-${i}`,
      probability,
      label,
      income: random() < 0.05 ? null : Math.round(20000 + 80000 * random() + shift * 30000),
      occupation: random() < 0.03 ? null : occupations[Math.floor(random() * (shift > 0 ? 2 : 4))],
    });
  }
  return loans;
}

export const FEATURES = ['income', 'occupation'];

export function metadataFor(modelId: string, asOf: Month, baselineLoans: LoanRow[], threshold: number): ModelMetadata {
  const sha = 'a'.repeat(64);
  return {
    model_id: modelId,
    family: 'gbtree',
    params: { max_depth: 3 },
    features: FEATURES,
    as_of: asOf,
    windows: {
      train: { from: addMonths(asOf, -12), to: addMonths(asOf, -3) },
      test: { from: addMonths(asOf, -2), to: addMonths(asOf, -1) },
      oot: { from: asOf, to: asOf },
    },
    metrics: { train_auc: 0.8, test_auc: 0.78, oot_auc: 0.77, oot_gini: 0.54, oot_ks: 0.4 },
    threshold,
    baseline: computeBaseline(
      baselineLoans.map((loan) => loan.probability),
      { income: baselineLoans.map((loan) => loan.income), occupation: baselineLoans.map((loan) => loan.occupation) },
    ),
    training_data_sha256: sha,
    feature_schema_sha256: sha,
    artifacts_sha256: { 'model.onnx': sha },
    xgboost_version: '1.7.4',
    created_at: '2024-01-01T00:00:00.000Z',
    workflow: { workflowId: 'training-test', runId: 'run' },
  };
}

export async function writeMetadata(modelBankDir: string, metadata: ModelMetadata): Promise<void> {
  const file = modelBank.file(modelBankDir, metadata.model_id, 'metadata.json');
  await mkdir(join(modelBankDir, metadata.model_id), { recursive: true });
  await writeFile(file, JSON.stringify(metadata, null, 2));
}

/** Writes one application month: predictions, the label partition six months later, the feature store partition. */
export async function writeMonth(
  datamartDir: string,
  modelId: string,
  month: Month,
  loans: LoanRow[],
  threshold: number,
  { withLabels = true, withFeatures = true } = {},
): Promise<void> {
  const csv = join(datamartDir, `${modelId}-${month}-${Math.random().toString(36).slice(2)}.csv`);
  const header = 'loan_id,Customer_ID,probability,label,income,occupation\n';
  const body = loans
    .map((loan) => [loan.loan_id, `CUS-${loan.loan_id}`, loan.probability, loan.label, loan.income ?? '', loan.occupation ?? ''].join(','))
    .join('\n');
  await mkdir(datamartDir, { recursive: true });
  await writeFile(csv, header + body + '\n');
  const source = `read_csv(${sqlString(csv)}, header = true, columns = {'loan_id': 'VARCHAR', 'Customer_ID': 'VARCHAR',
    'probability': 'DOUBLE', 'label': 'INTEGER', 'income': 'DOUBLE', 'occupation': 'VARCHAR'})`;
  const date = snapshotDate(month);
  await withDuckDB(async (db) => {
    await writeParquetAtomic(
      db,
      `SELECT loan_id, Customer_ID, DATE ${sqlString(date)} AS snapshot_date, ${sqlString(modelId)} AS model_id,
         probability AS default_probability, CAST(probability >= ${threshold} AS INTEGER) AS predicted_default,
         CASE WHEN probability < 0.2 THEN 'Low' WHEN probability < 0.5 THEN 'Medium' ELSE 'High' END AS risk_band,
         TIMESTAMP '2024-01-01 00:00:00' AS scored_at FROM ${source}`,
      partitionFile(datamart.predictions(datamartDir, modelId), month),
    );
    if (withLabels) {
      const labelMonth = addMonths(month, 6);
      await writeParquetAtomic(
        db,
        `SELECT loan_id, Customer_ID, DATE ${sqlString(date)} AS application_date,
           DATE ${sqlString(snapshotDate(labelMonth))} AS snapshot_date, label * 45 AS dpd, label, '30dpd_6mob' AS label_def
         FROM ${source}`,
        partitionFile(datamart.labelStore(datamartDir), labelMonth),
      );
    }
    if (withFeatures) {
      await writeParquetAtomic(
        db,
        `SELECT loan_id, Customer_ID, DATE ${sqlString(date)} AS snapshot_date, income, occupation, 1.0 AS unused
         FROM ${source}`,
        partitionFile(datamart.featureStore(datamartDir), month),
      );
    }
  });
  await rm(csv, { force: true });
}

/** Runs a Python snippet in the scikit-learn oracle venv with JSON on stdin; fails (never skips) when it is missing. */
export function runOracle<T>(script: string, input: unknown): T {
  if (!existsSync(ORACLE_PYTHON)) {
    throw new Error(`the metric oracle ${ORACLE_PYTHON} is missing: run \`npm run setup\` (it installs scikit-learn there)`);
  }
  const result = spawnSync(ORACLE_PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    throw new Error(`oracle failed (${result.status}): ${result.stderr}\nif scikit-learn is missing, run \`npm run setup\``);
  }
  return JSON.parse(result.stdout) as T;
}

/**
 * Online scores of `loans` for one application month, written as the scoring API writes them (its sink's writer),
 * each loan's probability passed through `score` (identity: the online path agrees with the batch path).
 */
export async function writeOnlineMonth(
  datamartDir: string,
  modelId: string,
  month: Month,
  loans: readonly Pick<LoanRow, 'loan_id' | 'probability'>[],
  score: (probability: number) => number = (probability) => probability,
): Promise<void> {
  const at = new Date('2024-01-01T00:00:00.000Z');
  await writeOnlinePredictions(
    datamartDir,
    loans.map((loan) => ({
      loanId: loan.loan_id,
      customerId: `CUS-${loan.loan_id}`,
      month,
      modelId,
      probability: score(loan.probability),
      predictedDefault: 0 as const,
      riskBand: 'Low' as const,
      requestedAt: at,
      scoredAt: at,
    })),
  );
}
