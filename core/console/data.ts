// What the console's pages read: the model bank (metadata, registry), the datamart's gold tables (monitoring,
// predictions, the governance logs, explanations) and the lineage files beside each partition. Plain functions over
// files, reading through DuckDB with filters and limits, so that a page holds no more than it shows. Tables that other
// parts of the pipeline may not have written yet (promotions, explanations, newer monitoring columns) read as null,
// and the pages say what is missing.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { GovernanceDecision, ModelMetadata, Registry, RegistryEvent } from '../../lib/contracts.js';
import { datamart, partitionFile, partitionMonthOf } from '../../lib/layout.js';
import { compareMonths, type Month } from '../../lib/months.js';
import { queryRows, readParquet, sqlString, withDuckDB, type Row } from '../duckdb.js';
import { exists } from '../files.js';
import { listRegisteredModels } from '../models/bank.js';
import { readRegistry } from '../models/registry.js';
import { readDecisionLog } from '../monitoring/governance.js';
import { partitionName, readLineage, type Lineage } from '../datamart/lineage.js';
import { inputPartitions, partitionPath, TABLES, TARGET_TABLES, type PartitionRef, type TableName } from '../datamart/graph.js';

export type ModelRole = 'production' | 'challenger' | 'retired';

export interface ModelView {
  metadata: ModelMetadata;
  role: ModelRole;
  /** This model's registry events, oldest first. */
  events: RegistryEvent[];
}

/** Production: the registry's; retired: archived, rejected or replaced; challenger: registered and neither. */
export function roleOf(registry: Registry, modelId: string): ModelRole {
  if (registry.production === modelId) return 'production';
  const last = registry.history.filter((event) => event.model_id === modelId).at(-1);
  return !last || last.stage === 'candidate' ? 'challenger' : 'retired';
}

export async function readModels(modelBankDir: string): Promise<{ registry: Registry; models: ModelView[] }> {
  const [registry, metadata] = await Promise.all([readRegistry(modelBankDir), listRegisteredModels(modelBankDir)]);
  const order: Record<ModelRole, number> = { production: 0, challenger: 1, retired: 2 };
  const models = metadata
    .map((model) => ({
      metadata: model,
      role: roleOf(registry, model.model_id),
      events: registry.history.filter((event) => event.model_id === model.model_id),
    }))
    .sort((a, b) => order[a.role] - order[b.role] || (a.metadata.created_at < b.metadata.created_at ? 1 : -1));
  return { registry, models };
}

export const governancePaths = {
  promotions: (datamartDir: string) => join(datamartDir, 'gold', 'governance', 'promotions.parquet'),
  explanations: (datamartDir: string) => join(datamartDir, 'gold', 'explanations'),
};

/** A Parquet table's rows as they are (every column, whatever the writer's version), or null when there is no file. */
async function rowsOf(path: string, where = '', orderBy = '', limit?: number): Promise<Row[] | null> {
  if (!(await exists(path))) return null;
  return withDuckDB((db) =>
    queryRows(db, `SELECT * FROM ${readParquet(path)}${where ? ` WHERE ${where}` : ''}${orderBy ? ` ORDER BY ${orderBy}` : ''}${limit ? ` LIMIT ${limit}` : ''}`),
  );
}

/** Promotion decisions with their evidence (SPEC §4b), oldest first; null while no decision has been written. */
export function readPromotions(datamartDir: string): Promise<Row[] | null> {
  return rowsOf(governancePaths.promotions(datamartDir));
}

/** The governance decision log (monitoring's decisions), oldest first. */
export async function readDecisions(datamartDir: string): Promise<GovernanceDecision[]> {
  return withDuckDB((db) => readDecisionLog(db, datamart.decisionLog(datamartDir)));
}

/** A model's monitoring rows with every column the table has, oldest month first; null when it has none. */
export function readMonitoringRows(datamartDir: string, modelId: string): Promise<Row[] | null> {
  return rowsOf(datamart.monitoring(datamartDir, modelId), '', 'snapshot_date');
}

export interface MonthPredictions {
  count: number;
  rows: Row[];
}

/** The month's predictions by a model: how many, and the `limit` riskiest (highest probability first). */
export async function readMonthPredictions(datamartDir: string, modelId: string, month: Month, limit = 50): Promise<MonthPredictions | null> {
  const file = partitionFile(datamart.predictions(datamartDir, modelId), month);
  if (!(await exists(file))) return null;
  return withDuckDB(async (db) => {
    const [{ n }] = await queryRows<{ n: number }>(db, `SELECT count(*) AS n FROM ${readParquet(file)}`);
    const rows = await queryRows(db, `SELECT * FROM ${readParquet(file)} ORDER BY default_probability DESC, loan_id LIMIT ${limit}`);
    return { count: n, rows };
  });
}

/** The application months with a partition in a Hive-partitioned table directory, oldest first. */
export async function partitionMonths(tableDir: string): Promise<Month[]> {
  const entries = await readdir(tableDir).catch(() => [] as string[]);
  return entries.map(partitionMonthOf).filter((month): month is Month => month !== null).sort(compareMonths);
}

/** Model ids with a partition directory under gold/<table>/model_id=… */
async function modelDirs(root: string): Promise<string[]> {
  const entries = await readdir(root).catch(() => [] as string[]);
  return entries.filter((entry) => entry.startsWith('model_id=')).map((entry) => entry.slice('model_id='.length)).sort();
}

export interface ApplicationView {
  loanId: string;
  features: Row | null;
  predictions: Row[];
  /** Null: no explanations table at all (reason codes not produced by this pipeline yet). */
  explanations: Row[] | null;
}

/**
 * One application: its feature-store row, every model's prediction of it and its reason codes where they exist. The
 * feature store gives its application month; predictions and explanations are then read from that month's
 * partitions only (one file per model instead of every month's).
 */
export async function readApplication(datamartDir: string, loanId: string): Promise<ApplicationView> {
  const features = datamart.featureStore(datamartDir);
  const explanationsRoot = governancePaths.explanations(datamartDir);
  const [predictionModels, explanationModels, featureMonths] = await Promise.all([
    modelDirs(join(datamartDir, 'gold', 'predictions')),
    modelDirs(explanationsRoot),
    partitionMonths(features),
  ]);
  const where = `loan_id = ${sqlString(loanId)}`;
  return withDuckDB(async (db) => {
    const featureRows = featureMonths.length
      ? await queryRows(db, `SELECT * FROM ${readParquet(join(features, '*', 'data.parquet'), true)} WHERE ${where} ORDER BY snapshot_date DESC LIMIT 1`)
      : [];
    const row = featureRows[0] ?? null;
    const month = row ? String(row.snapshot_date).slice(0, 7) : null;
    // Without a feature row (an application scored elsewhere) every month is searched.
    const files = async (root: string, models: string[]) => {
      const candidates = models.map((id) => (month ? partitionFile(join(root, `model_id=${id}`), month) : join(root, `model_id=${id}`, '*', 'data.parquet')));
      if (!month) return candidates;
      const present = await Promise.all(candidates.map(exists));
      return candidates.filter((_, i) => present[i]);
    };
    const predictionFiles = await files(join(datamartDir, 'gold', 'predictions'), predictionModels);
    const explanationFiles = await files(explanationsRoot, explanationModels);
    const predictions = predictionFiles.length
      ? await queryRows(db, `SELECT * FROM ${readParquet(predictionFiles, true)} WHERE ${where} ORDER BY model_id, snapshot_date`)
      : [];
    const explanations = explanationModels.length === 0
      ? null
      : explanationFiles.length
        ? await queryRows(db, `SELECT * FROM ${readParquet(explanationFiles, true)} WHERE ${where} ORDER BY model_id`)
        : [];
    return { loanId, features: row, predictions, explanations };
  });
}

// Lineage of a month: every partition of the month with its recorded inputs, whether it is stale, and when it was written.

export type LineageLayer = 'source' | 'bronze' | 'silver' | 'gold' | 'predictions' | 'model';

export interface LineageNode {
  /** The lineage name (`silver/attributes/2024-03`), a source slice (`source/attributes/2024-03`) or a model id. */
  name: string;
  layer: LineageLayer;
  /** Its fingerprint (a slice: the content hash of the month's rows of the source file). */
  fingerprint: string | null;
  /** Input name → the fingerprint recorded when it was built. */
  inputs: Record<string, string>;
  stale: boolean;
  /** Why it is stale (or 'current'). */
  why: string;
  /** When the partition file was written (its modification time), for finding the workflow run that wrote it. */
  writtenAt: string | null;
  path: string | null;
}

export interface MonthLineage {
  month: Month;
  nodes: LineageNode[];
  /** Months with a feature-store partition, for the month picker. */
  months: Month[];
}

async function modifiedAt(path: string): Promise<string | null> {
  return stat(path).then((s) => s.mtime.toISOString(), () => null);
}

/**
 * Why a partition is stale from what the datamart holds now: no lineage, an older transform version, or an input whose
 * current fingerprint is not the one recorded (it was rebuilt from other data since). A source file changed since the
 * last backfill shows at its next run (the backfill plans from the source files themselves).
 */
function staleness(lineage: Lineage | null, table: TableName, current: Map<string, string | null>): { stale: boolean; why: string } {
  if (!lineage) return { stale: true, why: 'no readable _lineage.json: rebuilt by the next backfill' };
  const problems: string[] = [];
  const version = TABLES[table].version;
  if (lineage.version !== version) problems.push(`built by transform version ${lineage.version}, current is ${version}`);
  for (const [input, fingerprint] of Object.entries(lineage.inputs)) {
    if (input === 'slice') continue;
    if (!current.has(input)) continue;
    const now = current.get(input);
    if (now === null) problems.push(`input ${input} is missing or has no lineage`);
    else if (now !== fingerprint) problems.push(`input ${input} was rebuilt since (recorded ${fingerprint.slice(0, 12)}, now ${now!.slice(0, 12)})`);
  }
  return problems.length ? { stale: true, why: problems.join('; ') } : { stale: false, why: 'current' };
}

/** The layer a table of the graph is drawn in: its name's first part (`bronze/…`, `silver/…`, `gold/…`). */
const layerOf = (table: TableName) => table.slice(0, table.indexOf('/')) as 'bronze' | 'silver' | 'gold';

/** The lineage graph of one application month, from the source slices to the predictions of every model. */
export async function readMonthLineage(datamartDir: string, modelBankDir: string, month: Month): Promise<MonthLineage> {
  const nodes: LineageNode[] = [];
  const current = new Map<string, string | null>();
  const add = async (layer: LineageLayer, table: TableName, name: string, path: string) => {
    const present = await exists(path);
    const lineage = present ? await readLineage(path) : null;
    current.set(name, lineage?.fingerprint ?? null);
    if (!present) return null;
    const judged = staleness(lineage, table, current);
    nodes.push({ name, layer, fingerprint: lineage?.fingerprint ?? null, inputs: lineage?.inputs ?? {}, ...judged, writtenAt: await modifiedAt(path), path });
    return lineage;
  };
  // Every partition the month's gold partitions read, down the table graph (the clickstream lookback months included),
  // each after its inputs, so that its staleness is judged against theirs.
  const partitions: PartitionRef[] = [];
  const visit = (ref: PartitionRef) => {
    if (partitions.some((seen) => seen.table === ref.table && seen.month === ref.month)) return;
    for (const input of inputPartitions(ref.table, ref.month)) visit(input);
    partitions.push(ref);
  };
  for (const table of TARGET_TABLES) visit({ table, month });
  for (const { table, month: at } of partitions) {
    const path = partitionPath(datamartDir, table, at);
    const source = TABLES[table].source;
    const bronze = source ? await readLineage(path) : null;
    if (source && bronze?.inputs.slice) {
      nodes.push({
        name: `source/${source}/${at}`,
        layer: 'source',
        fingerprint: bronze.inputs.slice,
        inputs: {},
        stale: false,
        why: 'the month’s slice of the source file (content hash when bronze was built)',
        writtenAt: null,
        path: null,
      });
    }
    await add(layerOf(table), table, partitionName(table, at), path);
  }
  const featureStoreFile = partitionPath(datamartDir, 'gold/feature_store', month);

  const { models } = await readModels(modelBankDir);
  for (const model of models) {
    const { train, oot } = model.metadata.windows;
    if (compareMonths(train.from, month) <= 0 && compareMonths(month, oot.to) <= 0) {
      nodes.push({
        name: model.metadata.model_id,
        layer: 'model',
        fingerprint: model.metadata.training_data_sha256,
        inputs: { [`gold/feature_store/${month}`]: '', [`gold/label_store/${month}`]: '' },
        stale: false,
        why: `built on ${train.from}..${oot.to} (this month is in its ${windowOf(model.metadata, month)} window)`,
        writtenAt: model.metadata.created_at,
        path: null,
      });
    }
  }
  const featureWritten = await modifiedAt(featureStoreFile);
  for (const modelId of await modelDirs(join(datamartDir, 'gold', 'predictions'))) {
    const file = partitionFile(datamart.predictions(datamartDir, modelId), month);
    const writtenAt = await modifiedAt(file);
    if (!writtenAt) continue;
    const older = featureWritten !== null && writtenAt < featureWritten;
    nodes.push({
      name: `gold/predictions/${modelId}/${month}`,
      layer: 'predictions',
      fingerprint: null,
      inputs: { [`gold/feature_store/${month}`]: current.get(`gold/feature_store/${month}`) ?? '', [modelId]: '' },
      stale: older,
      why: older ? `scored at ${writtenAt}, before the feature store was rebuilt at ${featureWritten}` : 'scored after the feature store was written',
      writtenAt,
      path: file,
    });
  }
  return { month, nodes, months: await partitionMonths(datamart.featureStore(datamartDir)) };
}

export function windowOf(metadata: ModelMetadata, month: Month): 'before' | 'train' | 'test' | 'oot' | 'after' {
  const { train, test, oot } = metadata.windows;
  if (compareMonths(month, train.from) < 0) return 'before';
  if (compareMonths(month, train.to) <= 0) return 'train';
  if (compareMonths(month, test.to) <= 0) return 'test';
  if (compareMonths(month, oot.to) <= 0) return 'oot';
  return 'after';
}

