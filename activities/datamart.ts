// Planning activities: read-only questions about the datamart that workflows use to decide what to (re)do.
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { inventoryMonths, latestLabelledMonth, referencedStagingVersions } from '../core/datamart/inventory.js';
import { planMonths, type MonthPlan } from '../core/datamart/plan.js';
import { pruneStaging } from '../core/etl/staging.js';
import { recordPartitionsReused } from './metrics.js';
import { acceptGaps, incompleteGoldInputs } from '../core/datamart/completeness.js';
import type { AcceptedGap, IncompleteSlice } from '../lib/completeness.js';
import { adaptActivity } from './failures.js';
import { heartbeating } from './heartbeat.js';

const month = monthSchema;
const inventoryInput = z.object({
  from: month,
  to: month,
  requirement: z.enum(['gold', 'features', 'predictions']),
  modelId: z.string().optional(),
});
const rangeInput = z.object({ from: month, to: month });
const planInput = z.object({ sourceDir: z.string().min(1), months: z.array(month) });
const upToInput = z.object({ upTo: month });
const acceptInput = z.object({ months: z.array(month).min(1), reason: z.string().min(1), workflowId: z.string().min(1) });

export function createDatamartActivities(config: Config) {
  return {
    inventoryMonths: adaptActivity(async (input: z.input<typeof inventoryInput>) => {
      const { from, to, requirement, modelId } = inventoryInput.parse(input);
      return inventoryMonths(config.DATAMART_DIR, from, to, requirement, modelId);
    }),
    latestLabelledMonth: adaptActivity(async (input: z.input<typeof rangeInput>) => {
      const { from, to } = rangeInput.parse(input);
      return latestLabelledMonth(config.DATAMART_DIR, from, to);
    }),
    /** Which months' gold partitions are current for the sources in `sourceDir`, and why not (stages the sources first). */
    planMonths: adaptActivity(async (input: z.input<typeof planInput>): Promise<MonthPlan[]> => {
      const { sourceDir, months } = planInput.parse(input);
      const plans = await heartbeating({ stage: 'planning', months: months.length }, (signal) => planMonths(config.DATAMART_DIR, sourceDir, months, signal));
      recordPartitionsReused(plans.filter((plan) => plan.current).length);
      return plans;
    }),
    /**
     * planMonths without heartbeats, for a local activity (workflows/activity-proxies.ts recheckMonths): the check
     * right before a month starts, once planMonths has staged the sources.
     */
    recheckMonths: adaptActivity(async (input: z.input<typeof planInput>): Promise<MonthPlan[]> => {
      const { sourceDir, months } = planInput.parse(input);
      return planMonths(config.DATAMART_DIR, sourceDir, months);
    }),
    /** The incomplete source slices the gold partitions up to `upTo` were built from and no operator accepted. */
    incompleteGoldInputs: adaptActivity(async (input: z.input<typeof upToInput>): Promise<IncompleteSlice[]> => {
      const { upTo } = upToInput.parse(input);
      return incompleteGoldInputs(config.DATAMART_DIR, upTo);
    }),
    /** An operator's acceptance of the known gaps of `months` (--accept-incomplete), recorded with its reason. */
    acceptIncomplete: adaptActivity(async (input: z.input<typeof acceptInput>): Promise<{ accepted: AcceptedGap[]; nothingToAccept: string[] }> => {
      const request = acceptInput.parse(input);
      return acceptGaps(config.DATAMART_DIR, request);
    }),
    /** Drops staged versions of source files no bronze partition references any more. */
    pruneStaging: adaptActivity(async (): Promise<{ removed: number }> => {
      const removed = await pruneStaging(config.DATAMART_DIR, await referencedStagingVersions(config.DATAMART_DIR));
      return { removed: removed.length };
    }),
  };
}
