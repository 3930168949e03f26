// ETL activities: thin adapters over core/etl. Inputs are validated, domain errors leave as non-retryable
// failures (adaptActivity), and long steps heartbeat so a dead worker is noticed.
import { monthSchema } from '../lib/months.js';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { SOURCES } from '../lib/layout.js';
import { ingestBronze } from '../core/etl/bronze.js';
import { buildFeatureStore } from '../core/etl/feature-store.js';
import { buildLabelStore } from '../core/etl/label-store.js';
import { buildSilver } from '../core/etl/silver.js';
import { adaptActivity } from './failures.js';

const month = monthSchema;
const source = z.enum(SOURCES);
const ingestInput = z.object({ sourceDir: z.string().min(1), source, month });
const silverInput = z.object({ source, month });
const featureInput = z.object({ sourceDir: z.string().min(1), month });
const labelInput = z.object({ month });

const HEARTBEAT_MS = 5_000;

/** Heartbeats while `work` runs when inside an activity; outside one (plain calls, tests) it just runs `work`. */
async function heartbeating<T>(detail: string, work: () => Promise<T>): Promise<T> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    context = undefined;
  }
  if (!context) return work();
  const active = context;
  active.heartbeat(detail);
  const timer = setInterval(() => active.heartbeat(detail), HEARTBEAT_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export function createEtlActivities(config: Config) {
  const datamartDir = config.DATAMART_DIR;
  const maxQuarantineShare = config.MAX_QUARANTINE_SHARE;
  return {
    ingestBronze: adaptActivity(async (input: z.input<typeof ingestInput>) => {
      const parsed = ingestInput.parse(input);
      return heartbeating(`bronze ${parsed.source} ${parsed.month}`, () => ingestBronze({ datamartDir, ...parsed }));
    }),
    buildSilver: adaptActivity(async (input: z.input<typeof silverInput>) => {
      const parsed = silverInput.parse(input);
      return heartbeating(`silver ${parsed.source} ${parsed.month}`, () =>
        buildSilver({ datamartDir, maxQuarantineShare, ...parsed }),
      );
    }),
    buildFeatureStore: adaptActivity(async (input: z.input<typeof featureInput>) => {
      const parsed = featureInput.parse(input);
      return heartbeating(`feature store ${parsed.month}`, () =>
        buildFeatureStore({ datamartDir, maxQuarantineShare, ...parsed }),
      );
    }),
    buildLabelStore: adaptActivity(async (input: z.input<typeof labelInput>) => {
      const parsed = labelInput.parse(input);
      return heartbeating(`label store ${parsed.month}`, () => buildLabelStore({ datamartDir, ...parsed }));
    }),
  };
}
