// Model bank activities: the promotion gate and every registry change (promote, rollback, keep as candidate).
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../lib/config.js';
import type { Registry } from '../lib/contracts.js';
import { listRegisteredModels, readMetadata } from '../core/models/bank.js';
import { evaluatePromotionGate, type GateDecision } from '../core/models/gate.js';
import { NoPreviousModel, promote, readRegistry, recordEvent, rollback } from '../core/models/registry.js';
import { adaptActivity } from './failures.js';

const modelId = z.string().min(1).regex(/^[\w.-]+$/, 'a model id is letters, digits, dot, dash or underscore');
/** minAuc: an explicit override; by default the gate reads PROMOTION_MIN_AUC from the worker's configuration. */
const gateInput = z.object({ modelId, minAuc: z.number().min(0).max(1).optional() });
const promoteInput = z.object({ modelId, reason: z.string().min(1) });
const reasonInput = z.object({ reason: z.string().min(1) });

export function createModelBankActivities(config: Config) {
  const root = config.MODEL_BANK_DIR;
  return {
    evaluatePromotionGate: adaptActivity(async (input: z.input<typeof gateInput>): Promise<GateDecision> => {
      const { modelId: id, minAuc = config.PROMOTION_MIN_AUC } = gateInput.parse(input);
      return evaluatePromotionGate({ datamartDir: config.DATAMART_DIR, modelBankDir: root, modelId: id, minAuc });
    }),
    promoteModel: adaptActivity(async (input: z.input<typeof promoteInput>): Promise<Registry> => {
      const { modelId: id, reason } = promoteInput.parse(input);
      await readMetadata(root, id); // only a registered, readable model can go to production
      return promote(root, id, reason);
    }),
    rollbackModel: adaptActivity(async (input: z.input<typeof reasonInput>): Promise<Registry> => {
      const { reason } = reasonInput.parse(input);
      try {
        return await rollback(root, reason);
      } catch (error) {
        if (error instanceof NoPreviousModel) {
          throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true });
        }
        throw error;
      }
    }),
    recordCandidate: adaptActivity(async (input: z.input<typeof promoteInput>): Promise<Registry> => {
      const { modelId: id, reason } = promoteInput.parse(input);
      return recordEvent(root, id, 'candidate', reason);
    }),
    readRegistry: adaptActivity(async (): Promise<Registry> => readRegistry(root)),
    listModels: adaptActivity(async (): Promise<Array<{ modelId: string; family: string; asOf: string; ootAuc: number }>> => {
      const models = await listRegisteredModels(root);
      return models.map((model) => ({ modelId: model.model_id, family: model.family, asOf: model.as_of, ootAuc: model.metrics.oot_auc }));
    }),
  };
}
