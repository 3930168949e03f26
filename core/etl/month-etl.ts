// The whole ETL of one month in the order the month workflow runs it, for tests, benchmarks and scripts that work
// without Temporal.
import { SOURCES } from '../../lib/layout.js';
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
}): Promise<MonthEtlResult> {
  const { datamartDir, sourceDir, month, maxQuarantineShare } = options;
  const bronze = await Promise.all(SOURCES.map((source) => ingestBronze({ datamartDir, sourceDir, source, month })));
  const silver = await Promise.all(
    SOURCES.map((source) => buildSilver({ datamartDir, source, month, maxQuarantineShare })),
  );
  const [features, labels] = await Promise.all([
    buildFeatureStore({ datamartDir, sourceDir, month, maxQuarantineShare }),
    buildLabelStore({ datamartDir, month }),
  ]);
  return { bronze, silver, features, labels };
}
