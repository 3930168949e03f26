// The model family and model id, apart from the rest of contracts.ts: workflows need only these, and every workflow
// run evaluates the modules it imports afresh (the SDK isolates module state per run), so building contracts.ts's
// schemas of metadata, registry and monitoring rows cost each month and scoring child ~6 ms of workflow-thread CPU.
import { z } from 'zod';

export const MODEL_FAMILIES = ['gbtree', 'gblinear', 'rf'] as const;
export const modelFamilySchema = z.enum(MODEL_FAMILIES);
export type ModelFamily = z.infer<typeof modelFamilySchema>;

/** A model id names a directory of the model bank and a Hive partition: no path separators, no spaces. */
export const modelIdSchema = z.string().min(1).regex(/^[\w.-]+$/, 'a model id is letters, digits, dot, dash or underscore');

/**
 * A model named for a person: its content-addressed id with the month it was trained as of and its windows, so that
 * "training as of 2024-12 → gbtree-2024-06-…" reads as what it is (the id carries the last labelled application month).
 */
export function describeModel(model: { model_id: string; as_of: string; windows: { train: { from: string; to: string }; test: { from: string; to: string }; oot: { from: string; to: string } } }): string {
  const { train, test, oot } = model.windows;
  return `${model.model_id} (trained as of ${model.as_of} on ${train.from}..${train.to}, test ${test.from}..${test.to}, OOT ${oot.from}..${oot.to})`;
}
