// What a model remembers of its training population, as zod schemas (pure: lib/contracts.ts and core/ both read it):
// the PSI/CSI bins of scores and features (SPEC §4), and the data-quality baseline that coverage and null-rate
// findings compare against.
import { z } from 'zod';
import { SOURCES } from './layout.js';

/** Numeric bins: right-closed on inner `edges`; the last proportion, when `missing` is true, is the NULL share. */
export const numericBinsSchema = z.object({
  kind: z.literal('numeric'),
  edges: z.array(z.number()),
  expected: z.array(z.number()),
  missing: z.boolean(),
});
export const categoricalBinsSchema = z.object({
  kind: z.literal('categorical'),
  categories: z.array(z.string()),
  expected: z.array(z.number()), // one per category, then one for any other value, then one for NULL
});
export const binsSchema = z.discriminatedUnion('kind', [numericBinsSchema, categoricalBinsSchema]);
export const baselineSchema = z.object({
  score: numericBinsSchema,
  features: z.record(z.string(), binsSchema),
});
export type NumericBins = z.infer<typeof numericBinsSchema>;
export type CategoricalBins = z.infer<typeof categoricalBinsSchema>;
export type Bins = z.infer<typeof binsSchema>;
export type Baseline = z.infer<typeof baselineSchema>;

/**
 * The data-quality baseline of the training rows (the train months): each feature's NULL share and the share of rows
 * each source covers (a row is covered by a source when at least one of that source's features is not NULL).
 */
export const dataBaselineSchema = z.object({
  rows: z.number().int().nonnegative(),
  null_rate: z.record(z.string(), z.number().min(0).max(1)),
  coverage: z.partialRecord(z.enum(SOURCES), z.number().min(0).max(1)),
});
export type DataBaseline = z.infer<typeof dataBaselineSchema>;
