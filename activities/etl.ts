// ETL activities: thin adapters over core/etl. Inputs are validated, domain errors leave as non-retryable
// failures (adaptActivity), and every step heartbeats each second and stops when cancelled (heartbeat.ts).
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { SOURCES } from '../lib/layout.js';
import { ingestBronze } from '../core/etl/bronze.js';
import { buildFeatureStore } from '../core/etl/feature-store.js';
import { buildLabelStore } from '../core/etl/label-store.js';
import { buildSilver } from '../core/etl/silver.js';
import { adaptActivity } from './failures.js';
import { heartbeating } from './heartbeat.js';

const month = monthSchema;
const source = z.enum(SOURCES);
const ingestInput = z.object({ sourceDir: z.string().min(1), source, month });
const silverInput = z.object({ source, month });
const featureInput = z.object({ sourceDir: z.string().min(1), month });
const labelInput = z.object({ month });

export function createEtlActivities(config: Config) {
  const datamartDir = config.DATAMART_DIR;
  const maxQuarantineShare = config.MAX_QUARANTINE_SHARE;
  return {
    ingestBronze: adaptActivity(async (input: z.input<typeof ingestInput>) => {
      const parsed = ingestInput.parse(input);
      return heartbeating(`bronze ${parsed.source} ${parsed.month}`, (signal) => ingestBronze({ datamartDir, ...parsed, signal }));
    }),
    buildSilver: adaptActivity(async (input: z.input<typeof silverInput>) => {
      const parsed = silverInput.parse(input);
      return heartbeating(`silver ${parsed.source} ${parsed.month}`, (signal) =>
        buildSilver({ datamartDir, maxQuarantineShare, ...parsed, signal }),
      );
    }),
    buildFeatureStore: adaptActivity(async (input: z.input<typeof featureInput>) => {
      const parsed = featureInput.parse(input);
      return heartbeating(`feature store ${parsed.month}`, (signal) =>
        buildFeatureStore({ datamartDir, maxQuarantineShare, ...parsed, signal }),
      );
    }),
    buildLabelStore: adaptActivity(async (input: z.input<typeof labelInput>) => {
      const parsed = labelInput.parse(input);
      return heartbeating(`label store ${parsed.month}`, (signal) => buildLabelStore({ datamartDir, ...parsed, signal }));
    }),
  };
}
