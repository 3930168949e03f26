// Summaries that cross activity boundaries (training set, candidate). zod only: workflows import these types.
import { monthSchema } from './months.js';
import { z } from 'zod';
import { modelFamilySchema, modelMetricsSchema, ootCalibrationSchema } from './contracts.js';
import { dataBaselineSchema } from './baseline.js';


const windowSchema = z.object({ from: monthSchema, to: monthSchema });
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');

export const paramValueSchema = z.union([z.string(), z.number(), z.boolean()]);
export const paramsSchema = z.record(z.string(), paramValueSchema);
export type Params = z.infer<typeof paramsSchema>;

export const trainingSetSummarySchema = z.object({
  path: z.string().min(1),
  asOf: monthSchema,
  trainingDataSha256: sha256Schema,
  featureSchemaSha256: sha256Schema,
  windows: z.object({ train: windowSchema, test: windowSchema, oot: windowSchema }),
  rows: z.object({ train: z.number().int().positive(), test: z.number().int().positive(), oot: z.number().int().positive() }),
  /** Share of label = 1 over all three splits. */
  defaultRate: z.number().min(0).max(1),
  /** NULL shares and source coverage of the train rows: what data-quality monitoring compares new months with. */
  dataBaseline: dataBaselineSchema.optional(),
  /** Lineage fingerprint of every gold partition it reads, by name (core/models/staleness.ts). */
  goldLineage: z.record(z.string(), z.string()).optional(),
});
export type TrainingSetSummary = z.infer<typeof trainingSetSummarySchema>;

export const candidateSummarySchema = z.object({
  family: modelFamilySchema,
  params: paramsSchema,
  candidateDir: z.string().min(1),
  trainingDataSha256: sha256Schema,
  metrics: modelMetricsSchema,
  threshold: z.number().min(0).max(1),
  /** Wall-clock seconds of the whole family search, final fit and export. */
  trainingSeconds: z.number().nonnegative(),
  /** Boosting rounds of the final model. */
  rounds: z.number().int().positive(),
  /** Reliability curve and Hosmer–Lemeshow test on the OOT months; absent in candidates written before it existed. */
  calibration: ootCalibrationSchema.optional(),
});
export type CandidateSummary = z.infer<typeof candidateSummarySchema>;

