// The scoring API's responses as zod schemas: the same objects type the answers (fastify-type-provider-zod's
// ZodTypeProvider checks each handler's answer against them at compile time; app.ts writes them with JSON.stringify) and
// describe them in the OpenAPI document at /openapi.json (@fastify/swagger), beside the request schema of request.ts.
// A field added to an answer must be added here: the answer types are derived from these schemas.
import { z } from 'zod';
import { modelFamilySchema, modelMetricsSchema } from '../../lib/contracts.js';
import { SOURCES } from '../../lib/layout.js';

export const rejectedRecordSchema = z.object({
  source: z.enum(SOURCES),
  reason: z.string(),
});

/**
 * One reason of a score in POST /v1/score's answer (`reasons`, SPEC §4c): a raw feature pushing the risk up, its
 * contribution on the log-odds scale (libxgboost's TreeSHAP, or w·x for gblinear, folded to the raw feature) and the
 * catalogue's adverse-action statement (lib/reason-codes.ts). At most four, largest first.
 */
export const reasonSchema = z.object({
  feature: z.string().describe('the raw feature-store feature'),
  contribution: z.number().describe('log-odds; positive: raises the risk of default'),
  statement: z.string().describe('adverse-action wording from the reason-code catalogue'),
  value_missing: z.boolean().describe('the application had no usable value for the feature'),
});
export const reasonsSchema = z.array(reasonSchema).max(4);

export const scoredApplicationSchema = z
  .object({
    loan_id: z.string(),
    customer_id: z.string(),
    application_month: z.string().describe('YYYY-MM, the month of the loan record'),
    model_id: z.string().describe('the production model that scored it'),
    default_probability: z.number().min(0).max(1),
    predicted_default: z.union([z.literal(0), z.literal(1)]).describe('1 when default_probability ≥ threshold'),
    risk_band: z.string().describe('Low | Medium | High'),
    threshold: z.number(),
    reasons: reasonsSchema.describe('the features raising the risk most, largest first (gold/explanations holds the same)'),
    features: z.record(z.string(), z.unknown()).describe('the model features computed from the records, as the batch path computes them'),
    ignored_clickstream_rows: z.number().int().describe('clickstream rows outside the 3-month lookback'),
    rejected_records: z.array(rejectedRecordSchema).describe('records the silver checks rejected (the application scored without them)'),
  })
  .describe('A scored application');
export type ScoredApplication = z.output<typeof scoredApplicationSchema>;

export const rejectedApplicationSchema = z
  .object({
    loan_id: z.string().nullable(),
    error: z.string(),
    rejected_records: z.array(rejectedRecordSchema),
  })
  .describe('An application of a batch that could not be scored');
export type RejectedApplication = z.output<typeof rejectedApplicationSchema>;

export const batchAnswerSchema = z.object({
  results: z.array(z.union([scoredApplicationSchema, rejectedApplicationSchema])).describe('one per application, in the order sent'),
});

export const errorSchema = z
  .object({
    error: z.enum(['bad_request', 'unauthorized', 'not_ready', 'overloaded', 'rejected_application', 'internal']),
    message: z.string(),
    request_id: z.string().describe('the x-request-id of the request, also in the server log'),
  })
  .describe('An error');

export const rejectedAnswerSchema = errorSchema.extend({
  loan_id: z.string().nullable(),
  rejected_records: z.array(rejectedRecordSchema),
});

export const modelAnswerSchema = z.object({
  model_id: z.string().nullable(),
  loaded_at: z.string().nullable(),
  model: z
    .object({
      family: modelFamilySchema,
      as_of: z.string(),
      windows: z.record(z.string(), z.object({ from: z.string(), to: z.string() })),
      metrics: modelMetricsSchema,
      threshold: z.number(),
      features: z.array(z.string()),
      created_at: z.string(),
      model_onnx_sha256: z.string().optional(),
    })
    .nullable(),
  last_load_failure: z.object({ modelId: z.string(), message: z.string(), at: z.string() }).nullable(),
  follows: z.string(),
});

export const healthAnswerSchema = z.object({ status: z.literal('ok') });
export const readyAnswerSchema = z.object({ ready: z.literal(true), model_id: z.string() });
export const notReadyAnswerSchema = z.object({
  ready: z.literal(false),
  reason: z.string(),
  last_load_failure: z.object({ modelId: z.string(), message: z.string(), at: z.string() }).nullable(),
});
