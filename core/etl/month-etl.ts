// The whole ETL of one month step by step, each step on its own connection, in the stage order of lib/month-etl.ts,
// for tests and scripts that work without Temporal. The month activity runs core/etl/month-etl-session.ts instead.
import { runInMonthEtlOrder } from '../../lib/month-etl.js';
import type { Month } from '../../lib/months.js';
import { ingestBronze, type BronzeResult } from './bronze.js';
import { buildFeatureStore, type FeatureStoreResult } from './feature-store.js';
import { buildLabelStore, type LabelStoreResult } from './label-store.js';
import { buildSilver, type SilverResult } from './silver.js';

export interface MonthEtlResult {
  bronze: BronzeResult[];
  silver: SilverResult[];
  features: FeatureStoreResult;
  labels: LabelStoreResult;
}

export async function runMonthEtl(options: {
  datamartDir: string;
  sourceDir: string;
  month: Month;
  maxQuarantineShare: number;
  minSourceVolumeShare?: number;
}): Promise<MonthEtlResult> {
  const { datamartDir, sourceDir, month, maxQuarantineShare, minSourceVolumeShare } = options;
  return runInMonthEtlOrder({
    ingestBronze: (source) => ingestBronze({ datamartDir, sourceDir, source, month, minSourceVolumeShare }),
    buildSilver: (source) => buildSilver({ datamartDir, source, month, maxQuarantineShare }),
    buildFeatureStore: () => buildFeatureStore({ datamartDir, sourceDir, month, maxQuarantineShare, minSourceVolumeShare }),
    buildLabelStore: () => buildLabelStore({ datamartDir, month }),
  });
}
