// Planning activities: read-only questions about the datamart that workflows use to decide what to (re)do.
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { inventoryMonths, latestLabelledMonth } from '../core/datamart/inventory.js';
import { adaptActivity } from './failures.js';

const month = monthSchema;
const inventoryInput = z.object({
  from: month,
  to: month,
  requirement: z.enum(['gold', 'features', 'predictions']),
  modelId: z.string().optional(),
});
const rangeInput = z.object({ from: month, to: month });

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
  };
}
