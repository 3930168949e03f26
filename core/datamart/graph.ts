// The datamart as one declared graph (SPEC §2): every monthly table with its inputs and their partition mappings, the
// version of its transform, and the transform itself (the SQL lives in core/etl). materialize.ts builds partitions
// from these declarations and plan.ts finds the stale ones from the same declarations, so what the planner predicts
// is what the builder records; nothing else names a table's inputs. Modelled on Dagster's partitioned assets: a table
// is an asset partitioned by month, an input's mapping names the upstream months a partition reads, `version` is its
// code version, and a partition's lineage fingerprint (lineage.ts) is its data version: a hash of its name, version and
// its inputs' fingerprints, down to the content hash of the month's slice of a source file (etl/staging.ts).
import { CLICKSTREAM_LOOKBACK, datamart, partitionFile, type Source } from '../../lib/layout.js';
import { addMonths, type Month } from '../../lib/months.js';
import { ingestBronze, type BronzeResult } from '../etl/bronze.js';
import { buildFeatureStore, type FeatureStoreResult } from '../etl/feature-store.js';
import { buildLabelStore, type LabelStoreResult } from '../etl/label-store.js';
import { buildSilver, type SilverResult } from '../etl/silver.js';
import { sliceFingerprint, type StagedSource } from '../etl/staging.js';
import { incompleteInputs, judgeSliceVolume, knownRowsOf, volumeAnnotation } from './completeness.js';
import { lineageOf, partitionName, type Lineage } from './lineage.js';

/** Which months of an input a partition of month M reads. */
export interface PartitionMapping {
  /** For people: `M`, `M-3..M`. */
  label: string;
  months(month: Month): Month[];
}

export const sameMonth: PartitionMapping = { label: 'M', months: (month) => [month] };

/** The months M-`back`..M, oldest first. */
export function monthsBack(back: number): PartitionMapping {
  return { label: `M-${back}..M`, months: (month) => Array.from({ length: back + 1 }, (_, i) => addMonths(month, i - back)) };
}

export type TableName = `bronze/${Source}` | `silver/${Source}` | 'gold/feature_store' | 'gold/label_store';

export interface TableInput {
  table: TableName;
  mapping: PartitionMapping;
}

/** Annotations a partition's lineage carries beside its fingerprint (not part of it): see lineage.ts. */
export type LineageAnnotations = Partial<Pick<Lineage, 'stagedFrom' | 'volume' | 'incomplete'>>;

/** What a table's transform is handed by materialize.ts for one partition. */
export interface BuildContext {
  datamartDir: string;
  month: Month;
  /** The partition's data file. */
  path: string;
  /** The input partitions' data files: one list per declared input, in its mapping's month order. */
  inputs: string[][];
  /** A source file staged (cached per run). */
  stage(source: Source): Promise<StagedSource>;
  maxQuarantineShare: number;
  minSourceVolumeShare: number;
  signal?: AbortSignal;
  /** Writes the data through `writeData`, atomically with the partition's lineage plus `annotations`. */
  publish<T>(writeData: () => Promise<T>, annotations?: LineageAnnotations): Promise<T>;
}

export interface TableDeclaration<Result> {
  /** Its folder under the datamart, and the prefix of its partitions' lineage names (`silver/clickstream/2024-01`). */
  name: TableName;
  /** Bump when the transform's SQL or output changes: every partition built by the older code becomes stale. */
  version: number;
  /** Bronze: the source file whose month slice it holds (its only input). */
  source?: Source;
  inputs: readonly TableInput[];
  build(context: BuildContext): Promise<Result>;
}

export type ResultOf<N extends TableName> = N extends `bronze/${string}`
  ? BronzeResult
  : N extends `silver/${string}`
    ? SilverResult
    : N extends 'gold/feature_store'
      ? FeatureStoreResult
      : LabelStoreResult;

const bronze = (source: Source): TableDeclaration<BronzeResult> => ({
  name: `bronze/${source}`,
  version: 1,
  source,
  inputs: [],
  async build({ month, path, stage, minSourceVolumeShare, signal, publish }) {
    const staged = await stage(source);
    // The slice's completeness, judged against the rows ingested for the month before and the source's previous months.
    const { previous, knownRows } = await knownRowsOf(path);
    const incomplete = judgeSliceVolume({ source, month, monthly: staged.months, knownRows, minShare: minSourceVolumeShare });
    const volume = volumeAnnotation(incomplete, staged.months[month] ?? 0, previous);
    const rows = await ingestBronze({ staged, month, path, signal, publish: (writeData) => publish(writeData, { stagedFrom: staged.dir, volume }) });
    return { source, month, rows, path, incomplete };
  },
});

const silver = (source: Source): TableDeclaration<SilverResult> => ({
  name: `silver/${source}`,
  version: 2,
  inputs: [{ table: `bronze/${source}`, mapping: sameMonth }],
  async build({ datamartDir, month, stage, maxQuarantineShare, signal, publish }) {
    const stagedFrom = (await stage(source)).dir;
    return buildSilver({ datamartDir, source, month, maxQuarantineShare, stagedFrom, signal, publish: (writeData) => publish(writeData) });
  },
});

/** The gold partitions list the incomplete source slices they were built from (a training refuses them). */
const incompleteSlicesOf = (datamartDir: string, table: TableName, month: Month) => incompleteInputs(datamartDir, sourceSlicesOf(table, month));

export const TABLES: { readonly [N in TableName]: TableDeclaration<ResultOf<N>> } = {
  'bronze/attributes': bronze('attributes'),
  'bronze/financials': bronze('financials'),
  'bronze/clickstream': bronze('clickstream'),
  'bronze/loan_daily': bronze('loan_daily'),
  'silver/attributes': silver('attributes'),
  'silver/financials': silver('financials'),
  'silver/clickstream': silver('clickstream'),
  'silver/loan_daily': silver('loan_daily'),
  /** The applications of M with what was known then: the month's three sources and the clickstream of M-3..M. */
  'gold/feature_store': {
    name: 'gold/feature_store',
    version: 1,
    inputs: [
      { table: 'silver/loan_daily', mapping: sameMonth },
      { table: 'silver/attributes', mapping: sameMonth },
      { table: 'silver/financials', mapping: sameMonth },
      { table: 'silver/clickstream', mapping: monthsBack(CLICKSTREAM_LOOKBACK) },
    ],
    async build({ datamartDir, month, path, inputs: [[loans], [attributes], [financials], clickstream], signal, publish }) {
      const incomplete = await incompleteSlicesOf(datamartDir, 'gold/feature_store', month);
      return buildFeatureStore({ month, loans, attributes, financials, clickstream, path, signal, publish: (writeData) => publish(writeData, { incomplete }) });
    },
  },
  /**
   * The loans reaching MOB 6 in M, labelled: partitioned by the month the label matures, so it reads the ledger of the
   * same month (the applications of M-6; training joins them to the feature store of M-6).
   */
  'gold/label_store': {
    name: 'gold/label_store',
    version: 1,
    inputs: [{ table: 'silver/loan_daily', mapping: sameMonth }],
    async build({ datamartDir, month, path, inputs: [[ledger]], stage, signal, publish }) {
      const incomplete = await incompleteSlicesOf(datamartDir, 'gold/label_store', month);
      const sourceFile = (await stage('loan_daily')).file;
      return buildLabelStore({ month, ledger, sourceFile, path, signal, publish: (writeData) => publish(writeData, { incomplete }) });
    },
  },
};

/** The tables in an order where each comes after every table it reads (declaration order among equals). */
export const TABLE_ORDER: readonly TableName[] = (() => {
  const order: TableName[] = [];
  const visit = (name: TableName) => {
    if (order.includes(name)) return;
    for (const input of TABLES[name].inputs) visit(input.table);
    order.push(name);
  };
  for (const name of Object.keys(TABLES) as TableName[]) visit(name);
  return order;
})();

/** The tables no other table reads: what a month must end with (the gold tables). */
export const TARGET_TABLES: readonly TableName[] = TABLE_ORDER.filter((name) => !TABLE_ORDER.some((other) => TABLES[other].inputs.some((input) => input.table === name)));

/** The data file of a partition. */
export function partitionPath(datamartDir: string, table: TableName, month: Month): string {
  return partitionFile(datamart.table(datamartDir, table), month);
}

export interface PartitionRef {
  table: TableName;
  month: Month;
}

/** The partitions a partition reads, in declared order: each input, each month of its mapping. */
export function inputPartitions(table: TableName, month: Month): PartitionRef[] {
  return TABLES[table].inputs.flatMap((input) => input.mapping.months(month).map((at) => ({ table: input.table, month: at })));
}

/** The source slices a partition is built from, down the graph, in declared order, each once. */
export function sourceSlicesOf(table: TableName, month: Month): Array<{ source: Source; month: Month }> {
  const slices = new Map<string, { source: Source; month: Month }>();
  const visit = (at: TableName, when: Month) => {
    const source = TABLES[at].source;
    if (source) slices.set(`${source} ${when}`, { source, month: when });
    for (const input of inputPartitions(at, when)) visit(input.table, input.month);
  };
  visit(table, month);
  return [...slices.values()];
}

/**
 * The lineage every partition must record to be current for the sources `stage` gives: from the slice fingerprints
 * up the graph, memoised (the fingerprints without the annotations).
 */
export function expectedLineages(stage: (source: Source) => Promise<StagedSource>): (table: TableName, month: Month) => Promise<Lineage> {
  const memo = new Map<string, Promise<Lineage>>();
  const expected = (table: TableName, month: Month): Promise<Lineage> => {
    const name = partitionName(table, month);
    let lineage = memo.get(name);
    if (!lineage) {
      lineage = (async () => {
        const { source, version } = TABLES[table];
        if (source) return lineageOf(name, version, month, { slice: sliceFingerprint(await stage(source), month) });
        const inputs = await Promise.all(inputPartitions(table, month).map(async (input) => [partitionName(input.table, input.month), (await expected(input.table, input.month)).fingerprint]));
        return lineageOf(name, version, month, Object.fromEntries(inputs));
      })();
      memo.set(name, lineage);
    }
    return lineage;
  };
  return expected;
}

