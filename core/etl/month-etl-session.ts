// One month's whole ETL as one unit of work on one DuckDB connection: bronze ×4 → silver ×4 → feature store and
// label store, each partition still written atomically by the same functions the per-step activities call. A caller
// that runs it inside an activity passes `onStep` (to heartbeat) and the activity's cancellation as `signal`, which is
// honoured between steps: a cancelled month stops before its next partition, never in the middle of one.
import { SOURCES } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { withDuckDBSession } from '../duckdb.js';
import { ingestBronze, type BronzeResult } from './bronze.js';
import { buildFeatureStore } from './feature-store.js';
import { buildLabelStore } from './label-store.js';
import type { MonthEtlResult } from './month-etl.js';
import { buildSilver, type SilverResult } from './silver.js';

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
  onStep?: (progress: MonthEtlProgress) => void;
  signal?: AbortSignal;
}

/** The steps in order: the sources' bronze, their silver, then the two gold tables. */
export const MONTH_ETL_STEPS = SOURCES.length * 2 + 2;

export async function runMonthEtlSession(options: MonthEtlSessionOptions): Promise<MonthEtlResult> {
  const { datamartDir, sourceDir, month, maxQuarantineShare, onStep, signal } = options;
  let done = 0;
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    signal?.throwIfAborted();
    const result = await work();
    onStep?.({ month, step: name, done: ++done, total: MONTH_ETL_STEPS });
    return result;
  };
  return withDuckDBSession(async () => {
    const bronze: BronzeResult[] = [];
    for (const source of SOURCES) {
      bronze.push(await step(`bronze ${source}`, () => ingestBronze({ datamartDir, sourceDir, source, month })));
    }
    const silver: SilverResult[] = [];
    for (const source of SOURCES) {
      silver.push(await step(`silver ${source}`, () => buildSilver({ datamartDir, source, month, maxQuarantineShare })));
    }
    const features = await step('feature store', () => buildFeatureStore({ datamartDir, sourceDir, month, maxQuarantineShare }));
    const labels = await step('label store', () => buildLabelStore({ datamartDir, month }));
    return { bronze, silver, features, labels };
  });
}
