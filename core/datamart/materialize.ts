// Building the datamart from its graph (graph.ts). `materialize(table, month)` builds one partition: first every
// partition it reads that is not current (missing, or recording another fingerprint than the current sources give:
// a clickstream lookback month another month's run has not built yet, say), then the partition itself through its
// table's transform, its data and its lineage (the fingerprint the graph gives) published together. `materializeMonth`
// is the month's whole ETL, the one path the month activity, the tests and the bench run: every table's partition of
// the month in graph order on one DuckDB connection, each partition built once per run.
import { SOURCES, type Source } from '../../lib/layout.js';
import type { MonthEtlSummary } from '../../lib/month-etl.js';
import type { Month } from '../../lib/months.js';
import { DEFAULT_MIN_SOURCE_VOLUME_SHARE } from '../../lib/config.js';
import { withDuckDBSession } from '../duckdb.js';
import type { BronzeResult } from '../etl/bronze.js';
import type { FeatureStoreResult } from '../etl/feature-store.js';
import type { LabelStoreResult } from '../etl/label-store.js';
import { exists } from '../etl/partitions.js';
import type { SilverResult } from '../etl/silver.js';
import { stageSource, type StagedSource } from '../etl/staging.js';
import { expectedLineages, inputPartitions, partitionPath, TABLE_ORDER, TABLES, type ResultOf, type TableName } from './graph.js';
import { partitionName, readLineage, writeWithLineage } from './lineage.js';

export interface MaterializeOptions {
  datamartDir: string;
  sourceDir: string;
  maxQuarantineShare: number;
  /** MIN_SOURCE_VOLUME_SHARE (default DEFAULT_MIN_SOURCE_VOLUME_SHARE). */
  minSourceVolumeShare?: number;
  signal?: AbortSignal;
  /** A forced backfill's token: the source files are read and hashed again (core/etl/staging.ts stageSource). */
  restage?: string;
}

export interface Materializer {
  /** Builds the partition of `table` for `month` (and, first, the partitions it reads that are not current). */
  materialize<N extends TableName>(table: N, month: Month): Promise<ResultOf<N>>;
}

/**
 * The partition builds under way in this process, by data file and fingerprint. Months run side by side (the worker's
 * activity slots) read each other's partitions, month M the clickstream of M-1..M-3: one that finds an input missing
 * while another month's run is building it, with the same fingerprint, waits for that build instead of building the
 * same partition a second time on the other core.
 */
const building = new Map<string, Promise<unknown>>();

/** Waits for `work` to settle, or throws when `signal` fires first. */
async function settledOrAborted(work: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  if (!signal) return void (await work.catch(() => undefined));
  signal.throwIfAborted();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([work.catch(() => undefined), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** A run of materializations over the same staged sources: each source staged once, each partition built once. */
export function materializer(options: MaterializeOptions): Materializer {
  const { datamartDir, sourceDir, maxQuarantineShare, signal, restage, minSourceVolumeShare = DEFAULT_MIN_SOURCE_VOLUME_SHARE } = options;
  const stagings = new Map<Source, Promise<StagedSource>>();
  const stage = (source: Source) => {
    let staged = stagings.get(source);
    if (!staged) stagings.set(source, (staged = stageSource(datamartDir, sourceDir, source, signal, undefined, restage)));
    return staged;
  };
  const expected = expectedLineages(stage);
  const built = new Set<string>();

  const ensureCurrent = async (table: TableName, month: Month): Promise<void> => {
    if (built.has(partitionName(table, month))) return;
    const path = partitionPath(datamartDir, table, month);
    const { fingerprint } = await expected(table, month);
    const current = async () => (await exists(path)) && (await readLineage(path))?.fingerprint === fingerprint;
    if (await current()) return;
    const underWay = building.get(`${path}|${fingerprint}`);
    if (underWay) {
      // Whatever that build's outcome, the partition is judged again: built and current, or this run builds it.
      await settledOrAborted(underWay, signal);
      if (await current()) return;
    }
    await materialize(table, month);
  };

  const materialize = async <N extends TableName>(table: N, month: Month): Promise<ResultOf<N>> => {
    const inputs = inputPartitions(table, month);
    for (const input of inputs) await ensureCurrent(input.table, input.month);
    signal?.throwIfAborted();
    const path = partitionPath(datamartDir, table, month);
    // The lineage as the graph computes it, not read back from the inputs: a neighbouring month's run may be
    // rewriting one of them (same content) right now, between its old lineage's removal and its new one.
    const lineage = await expected(table, month);
    const declaration = TABLES[table] as (typeof TABLES)[N];
    const key = `${path}|${lineage.fingerprint}`;
    const build = declaration.build({
      datamartDir,
      month,
      path,
      inputs: declaration.inputs.map((input) => input.mapping.months(month).map((at) => partitionPath(datamartDir, input.table, at))),
      stage,
      maxQuarantineShare,
      minSourceVolumeShare,
      signal,
      publish: (writeData, annotations) => writeWithLineage(path, { ...lineage, ...annotations }, writeData, signal),
    });
    building.set(key, build);
    let result: unknown;
    try {
      result = await build;
    } finally {
      if (building.get(key) === build) building.delete(key);
    }
    built.add(partitionName(table, month));
    return result as ResultOf<N>;
  };
  return { materialize };
}

/** One partition with the stale partitions it reads (a run of its own). */
export async function materialize<N extends TableName>(table: N, month: Month, options: MaterializeOptions): Promise<ResultOf<N>> {
  return materializer(options).materialize(table, month);
}

/** What a month's ETL has just finished: `done` of `total` steps (one step per table of the graph). */
export interface MonthEtlProgress {
  month: Month;
  step: string;
  done: number;
  total: number;
}

/** A month's ETL: a partition of every table of the graph. */
export const MONTH_ETL_STEPS = TABLE_ORDER.length;

export interface MonthEtlResult {
  bronze: BronzeResult[];
  silver: SilverResult[];
  features: FeatureStoreResult;
  labels: LabelStoreResult;
}

/**
 * The month's results; `noSourceRows` when no source has a row in the month: then only its (empty) bronze is written
 * and nothing after it, so the month has no gold, stays "not current" for the planner, and the month workflow fails
 * it with NoSourceData on every try until its data arrives.
 */
export type MonthEtlSessionResult = (MonthEtlResult & { noSourceRows: false }) | { noSourceRows: true; bronze: BronzeResult[] };

/**
 * The month's whole ETL as one unit of work on one DuckDB connection: every table's partition of the month in graph
 * order (bronze ×4 → silver ×4 → feature store and label store), with the partitions of other months they read that
 * are not current. `onStep` is called after each (the activity heartbeats with it); the activity's cancellation,
 * `signal`, is checked between partitions and handed to every transform, which publishes nothing after it fired.
 */
export async function materializeMonth(options: MaterializeOptions & { month: Month; onStep?: (progress: MonthEtlProgress) => void }): Promise<MonthEtlSessionResult> {
  const { month, onStep, signal } = options;
  return withDuckDBSession(async () => {
    const run = materializer(options);
    const results = new Map<TableName, unknown>();
    const result = <N extends TableName>(table: N) => results.get(table) as ResultOf<N>;
    const bronze = () => SOURCES.map((source) => result(`bronze/${source}`));
    for (const table of TABLE_ORDER) {
      // The sources' tables come first; a month without a row in any source stops there.
      if (!TABLES[table].source && !bronze().some((b) => b.rows > 0)) return { noSourceRows: true, bronze: bronze() };
      signal?.throwIfAborted();
      results.set(table, await run.materialize(table, month));
      onStep?.({ month, step: table, done: results.size, total: MONTH_ETL_STEPS });
    }
    return {
      noSourceRows: false,
      bronze: bronze(),
      silver: SOURCES.map((source) => result(`silver/${source}`)),
      features: result('gold/feature_store'),
      labels: result('gold/label_store'),
    };
  });
}

export function summarizeMonthEtl(month: Month, result: MonthEtlSessionResult): MonthEtlSummary {
  const perSource = () => Object.fromEntries(SOURCES.map((source) => [source, 0])) as Record<Source, number>;
  const bronzeRows = perSource();
  const silverRows = perSource();
  const quarantinedRows = perSource();
  const nulledValues = perSource();
  const findings: string[] = [];
  const nulls: string[] = [];
  for (const bronze of result.bronze) bronzeRows[bronze.source] = bronze.rows;
  for (const silver of result.noSourceRows ? [] : result.silver) {
    silverRows[silver.source] = silver.rows;
    quarantinedRows[silver.source] = silver.quarantined;
    nulledValues[silver.source] = silver.nulledValues.reduce((sum, n) => sum + n.count, 0);
    findings.push(...silver.findings);
    nulls.push(
      ...silver.nulledValues.map((n) => `${silver.source} ${month}: column ${n.column}: ${n.count} of ${n.rows} values ${n.reason}, kept as NULL (first at line ${n.firstLine})`),
    );
  }
  return {
    month,
    rows: result.bronze.reduce((sum, bronze) => sum + bronze.rows, 0),
    bronzeRows,
    silverRows,
    quarantinedRows,
    nulledValues,
    nulls,
    findings,
    featureRows: result.noSourceRows ? 0 : result.features.rows,
    labelRows: result.noSourceRows ? 0 : result.labels.rows,
    defaults: result.noSourceRows ? 0 : result.labels.defaults,
    incomplete: result.bronze.flatMap((bronze) => (bronze.incomplete ? [bronze.incomplete] : [])),
  };
}
