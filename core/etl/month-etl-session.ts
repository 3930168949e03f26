// One month's whole ETL as one unit of work on one DuckDB connection: bronze ×4 → silver ×4 → feature store and
// label store, each partition still written atomically, with its lineage, by the same functions the per-step path
// calls (so the feature store's clickstream lookback and the label store record the same _lineage.json). The month
// activity (activities/etl.ts runMonthEtl) passes `onStep` to heartbeat and the activity's cancellation as `signal`:
// checked between steps and handed to every step, which interrupts its query and publishes nothing after it fired.
import type { MonthEtlSummary } from '../../lib/month-etl.js';
import { SOURCES, type Source } from '../../lib/layout.js';
import { runInMonthEtlOrder } from '../../lib/month-etl.js';
import type { Month } from '../../lib/months.js';
import { withDuckDBSession } from '../duckdb.js';
import { ingestBronze, type BronzeResult } from './bronze.js';
import { buildFeatureStore } from './feature-store.js';
import { buildLabelStore } from './label-store.js';
import type { MonthEtlResult } from './month-etl.js';
import { buildSilver } from './silver.js';

/** What a month's ETL has just finished: `done` of `total` steps. */
export interface MonthEtlProgress {
  month: Month;
  step: string;
  done: number;
  total: number;
}

export interface MonthEtlSessionOptions {
  datamartDir: string;
  sourceDir: string;
  month: Month;
  maxQuarantineShare: number;
  /** MIN_SOURCE_VOLUME_SHARE (default DEFAULT_MIN_SOURCE_VOLUME_SHARE). */
  minSourceVolumeShare?: number;
  onStep?: (progress: MonthEtlProgress) => void;
  signal?: AbortSignal;
  /** A forced backfill's token: the source files are read and hashed again (core/etl/staging.ts stageSource). */
  restage?: string;
}

/**
 * The month's results; `noSourceRows` when no source has a row in the month: then only its (empty) bronze is written
 * and nothing after it, so the month has no gold, stays "not current" for the planner, and the month workflow fails
 * it with NoSourceData on every try until its data arrives.
 */
export type MonthEtlSessionResult = (MonthEtlResult & { noSourceRows: false }) | { noSourceRows: true; bronze: BronzeResult[] };

/** The steps in order: the sources' bronze, their silver, then the two gold tables. */
export const MONTH_ETL_STEPS = SOURCES.length * 2 + 2;

export type { MonthEtlSummary };

export async function runMonthEtlSession(options: MonthEtlSessionOptions): Promise<MonthEtlSessionResult> {
  const { datamartDir, sourceDir, month, maxQuarantineShare, minSourceVolumeShare, onStep, signal, restage } = options;
  let done = 0;
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    signal?.throwIfAborted();
    const result = await work();
    onStep?.({ month, step: name, done: ++done, total: MONTH_ETL_STEPS });
    return result;
  };
  return withDuckDBSession(async () => {
    const outcome = await runInMonthEtlOrder(
      {
        ingestBronze: (source) => step(`bronze ${source}`, () => ingestBronze({ datamartDir, sourceDir, source, month, minSourceVolumeShare, signal, restage })),
        buildSilver: (source) => step(`silver ${source}`, () => buildSilver({ datamartDir, source, month, maxQuarantineShare, signal })),
        buildFeatureStore: () => step('feature store', () => buildFeatureStore({ datamartDir, sourceDir, month, maxQuarantineShare, minSourceVolumeShare, signal, restage })),
        buildLabelStore: () => step('label store', () => buildLabelStore({ datamartDir, month, signal })),
      },
      { oneAtATime: true, continueAfterBronze: (bronze: BronzeResult[]) => bronze.some((b) => b.rows > 0) },
    );
    return 'stoppedAfterBronze' in outcome ? { noSourceRows: true, bronze: outcome.bronze } : { noSourceRows: false, ...outcome };
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
