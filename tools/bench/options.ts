// Options of `npm run bench`: one zod schema, so a bad value is rejected with its name before anything starts.
import { z } from 'zod';
import { availableParallelism } from 'node:os';
import { compareMonths, isMonth, monthSchema } from '../../lib/months.js';
import { DEFAULT_MONTHS_IN_FLIGHT, monthsInFlightSchema } from '../../lib/workflow-inputs.js';

/** Customers at scale 1: the real data set's size. */
export const CUSTOMERS_AT_SCALE_1 = 12_500;

const month = monthSchema;

export const benchOptionsSchema = z
  .object({
    scale: z.coerce.number({ message: 'scale must be a number' }).positive('scale must be above 0').max(200, 'scale must be at most 200'),
    from: month.default('2023-01'),
    to: month.default('2024-12'),
    seed: z.coerce.number().int().min(0).default(42),
    parallelism: z.coerce.number().pipe(monthsInFlightSchema).default(DEFAULT_MONTHS_IN_FLIGHT),
    concurrency: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
    /** A folder of the four CSVs to run on (resampled to the scale) instead of generated data. */
    source: z.string().min(1).optional(),
    keep: z.boolean().default(false),
    /**
     * Also measure what explanations add to phase 2 per model family (the families phase 1 did not register are trained
     * for it). Default: on up to scale 1; a forest's TreeSHAP makes it minutes at scale 10.
     */
    explainCost: z.boolean().optional(),
    out: z.string().min(1).default('bench/results'),
    work: z.string().min(1).default('bench/tmp'),
  })
  .refine((options) => !isMonth(options.from) || !isMonth(options.to) || compareMonths(options.from, options.to) <= 0, { message: '`from` must not be after `to`', path: ['to'] });

export type BenchOptions = z.output<typeof benchOptionsSchema>;

export function customersAt(scale: number): number {
  return Math.max(50, Math.round(CUSTOMERS_AT_SCALE_1 * scale));
}
