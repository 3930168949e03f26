// What monitoring reads: a model's metadata, its predictions per application month, the matching labels six months
// later, and the month's features. Everything read back is checked, and a defect names the file and the row.
import { readdir, stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { datamart, partitionFile, partitionMonthOf } from '../../lib/layout.js';
import { MonitoringInputError } from '../../lib/errors.js';
import { addMonths, compareMonths, type Month } from '../../lib/months.js';
import { queryColumns, readParquet, sqlIdent } from '../duckdb.js';
import { isNumericColumnType } from '../models/dataset.js';
import type { ScoredOutcome } from './metrics.js';

/** Months after an application month at which its label is observed (MOB 6, SPEC §2). */
export const LABEL_DELAY_MONTHS = 6;

/** The one reader of metadata.json (zod-validated, id checked): core/models/metadata.ts. */
export { readMetadata as loadModelMetadata } from '../models/metadata.js';

/** Application months with a predictions partition for the model, up to and including `asOf`, in order. */
export async function predictionMonths(datamartDir: string, modelId: string, asOf: Month): Promise<Month[]> {
  const tableDir = datamart.predictions(datamartDir, modelId);
  let entries: string[];
  try {
    entries = await readdir(tableDir);
  } catch {
    return [];
  }
  return entries
    .map(partitionMonthOf)
    .filter((month): month is Month => month !== null && compareMonths(month, asOf) <= 0)
    .sort(compareMonths);
}

export function labelMonthOf(applicationMonth: Month): Month {
  return addMonths(applicationMonth, LABEL_DELAY_MONTHS);
}

export function isMature(applicationMonth: Month, asOf: Month): boolean {
  return compareMonths(labelMonthOf(applicationMonth), asOf) <= 0;
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function columnNames(db: DuckDBConnection, file: string): Promise<Map<string, string>> {
  const reader = await db.runAndReadAll(`DESCRIBE SELECT * FROM ${readParquet(file)}`);
  const rows = reader.getRowObjectsJS();
  return new Map(rows.map((row) => [String(row.column_name), String(row.column_type)]));
}

function requireColumns(file: string, present: Map<string, string>, required: readonly string[]): void {
  const missing = required.filter((column) => !present.has(column));
  if (missing.length > 0) throw new MonitoringInputError(file, `missing column(s) ${missing.join(', ')}`);
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

export interface MonthScores {
  month: Month;
  file: string;
  /** Every scored loan's probability: the population for PSI. */
  probabilities: number[];
  /** Scored loans with a label, when the month is mature (empty when its label partition is absent). */
  outcomes: ScoredOutcome[];
  mature: boolean;
  /** Whether the label partition of a mature month was found. */
  labelsFound: boolean;
}

/** One month's predictions, joined on loan_id with the label store partition six months later when it is mature. */
export async function readMonthScores(
  db: DuckDBConnection,
  datamartDir: string,
  modelId: string,
  month: Month,
  asOf: Month,
): Promise<MonthScores> {
  const file = partitionFile(datamart.predictions(datamartDir, modelId), month);
  const mature = isMature(month, asOf);
  const labelFile = partitionFile(datamart.labelStore(datamartDir), labelMonthOf(month));
  const labelsFound = mature && (await exists(labelFile));
  const sql = labelsFound
    ? `SELECT p.default_probability AS probability, p.predicted_default AS predicted, l.label AS label
       FROM ${readParquet(file)} p LEFT JOIN (SELECT loan_id, any_value(label) AS label FROM ${readParquet(labelFile)}
       GROUP BY loan_id) l USING (loan_id)`
    : `SELECT default_probability AS probability, predicted_default AS predicted, NULL AS label FROM ${readParquet(file)}`;
  let columns: Record<string, unknown[]>;
  try {
    columns = (await db.runAndReadAll(sql)).getColumnsObjectJS();
  } catch (error) {
    // The columns are checked when the query fails, not before every month's query (two DESCRIBEs a month): a
    // missing one is named with its file; any other failure is thrown as it came.
    requireColumns(file, await columnNames(db, file), ['loan_id', 'default_probability', 'predicted_default']);
    if (labelsFound) requireColumns(labelFile, await columnNames(db, labelFile), ['loan_id', 'label']);
    throw error;
  }
  const probabilities: number[] = [];
  const outcomes: ScoredOutcome[] = [];
  const count = columns.probability.length;
  for (let row = 0; row < count; row++) {
    const probability = toNumber(columns.probability[row]);
    if (probability === null || probability < 0 || probability > 1) {
      throw new MonitoringInputError(file, `row ${row + 1}: default_probability ${String(columns.probability[row])} is not in [0, 1]`);
    }
    probabilities.push(probability);
    const label = toNumber(columns.label[row]);
    if (label === null) continue;
    const predicted = toNumber(columns.predicted[row]);
    if (predicted !== 0 && predicted !== 1) {
      throw new MonitoringInputError(file, `row ${row + 1}: predicted_default ${String(columns.predicted[row])} is not 0/1`);
    }
    if (label !== 0 && label !== 1) throw new MonitoringInputError(labelFile, `label ${label} is not 0/1`);
    outcomes.push({ probability, predicted, label });
  }
  return { month, file, probabilities, outcomes, mature, labelsFound };
}

export interface MonthFeatureRows {
  /** One per scored loan, in the same order as each feature's values. */
  probabilities: Float64Array;
  /**
   * Values per requested feature present in the month's feature store (empty when its partition is absent): a numeric
   * column as a Float64Array with NaN for NULL, any other as its values.
   */
  features: Record<string, Float64Array | unknown[]>;
  featuresFound: boolean;
}

const asDouble = (expression: string, name: string) => `coalesce(CAST(${expression} AS DOUBLE), 'NaN'::DOUBLE) AS ${sqlIdent(name)}`;

/**
 * The month's scored loans with their feature values side by side (a LEFT JOIN: a loan without features gets NULLs),
 * in no particular order: monitoring only counts them into bins.
 */
export async function readMonthFeatureRows(
  db: DuckDBConnection,
  datamartDir: string,
  modelId: string,
  month: Month,
  features: readonly string[],
): Promise<MonthFeatureRows> {
  const predictionsFile = partitionFile(datamart.predictions(datamartDir, modelId), month);
  const featureFile = partitionFile(datamart.featureStore(datamartDir), month);
  const featuresFound = await exists(featureFile);
  const present = featuresFound ? await columnNames(db, featureFile) : new Map<string, string>();
  if (featuresFound) requireColumns(featureFile, present, ['loan_id']);
  const wanted = features.filter((feature) => present.has(feature));
  const numeric = new Set(['__probability', ...wanted.filter((feature) => isNumericColumnType(present.get(feature)!))]);
  const select = [
    asDouble('p.default_probability', '__probability'),
    ...wanted.map((feature) => (numeric.has(feature) ? asDouble(`f.${sqlIdent(feature)}`, feature) : `f.${sqlIdent(feature)}`)),
  ].join(', ');
  const from = featuresFound
    ? `${readParquet(predictionsFile)} p LEFT JOIN ${readParquet(featureFile)} f USING (loan_id)`
    : `${readParquet(predictionsFile)} p`;
  const { columns } = await queryColumns(db, `SELECT ${select} FROM ${from}`, numeric);
  const { __probability: probabilities, ...values } = columns;
  return { probabilities: probabilities as Float64Array, features: values, featuresFound };
}

export { toNumber };
