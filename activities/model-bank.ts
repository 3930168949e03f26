// Model bank activities: the promotion gate and every registry change (promote, rollback, keep as candidate).
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { modelIdSchema, type Registry } from '../lib/contracts.js';
import { listRegisteredModels, readMetadata } from '../core/models/bank.js';
import { evaluatePromotionGate, type GateDecision } from '../core/scoring/promotion-gate.js';
import { promote, readRegistry, recordCandidate, rollback } from '../core/models/registry.js';
import { preloadScoringModel } from '../core/scoring/model-loader.js';
import { adaptActivity } from './failures.js';

/** minAuc: an explicit override; by default the gate reads PROMOTION_MIN_AUC from the worker's configuration. */
const gateInput = z.object({ modelId: modelIdSchema, minAuc: z.number().min(0).max(1).optional() });
const promoteInput = z.object({ modelId: modelIdSchema, reason: z.string().min(1) });
const reasonInput = z.object({ reason: z.string().min(1) });

export function createModelBankActivities(config: Config) {
  const root = config.MODEL_BANK_DIR;
  /**
   * Whoever reads or changes the registry is about to score with its production model (phase 2 reads it right before
   * its months' activities, a promotion precedes them): this worker opens that model's session meanwhile.
   */
  const preloadProduction = (registry: Registry): Registry => {
    preloadScoringModel(root, registry.production);
    return registry;
  };
  return {
    evaluatePromotionGate: adaptActivity(async (input: z.input<typeof gateInput>): Promise<GateDecision> => {
      const { modelId: id, minAuc = config.PROMOTION_MIN_AUC } = gateInput.parse(input);
      return evaluatePromotionGate({ datamartDir: config.DATAMART_DIR, modelBankDir: root, modelId: id, minAuc });
    }),
    promoteModel: adaptActivity(async (input: z.input<typeof promoteInput>): Promise<Registry> => {
      const { modelId: id, reason } = promoteInput.parse(input);
      await readMetadata(root, id); // only a registered, readable model can go to production
      return preloadProduction(await promote(root, id, reason));
    }),
    rollbackModel: adaptActivity(async (input: z.input<typeof reasonInput>): Promise<Registry> => {
      const { reason } = reasonInput.parse(input);
      return preloadProduction(await rollback(root, reason));
    }),
    recordCandidate: adaptActivity(async (input: z.input<typeof promoteInput>): Promise<Registry> => {
      const { modelId: id, reason } = promoteInput.parse(input);
      return recordCandidate(root, id, reason);
    }),
    readRegistry: adaptActivity(async (): Promise<Registry> => preloadProduction(await readRegistry(root))),
    /** Registered models trained on exactly this training set (same training_data_sha256 in metadata.json). */
    findModelsByTrainingData: adaptActivity(async (input: { trainingDataSha256: string }): Promise<string[]> => {
      const { trainingDataSha256 } = z.object({ trainingDataSha256: z.string().length(64) }).parse(input);
      const models = await listRegisteredModels(root);
      return models.filter((model) => model.training_data_sha256 === trainingDataSha256).map((model) => model.model_id);
    }),
    listModels: adaptActivity(async (): Promise<Array<{ modelId: string; family: string; asOf: string; ootAuc: number }>> => {
      const models = await listRegisteredModels(root);
      return models.map((model) => ({ modelId: model.model_id, family: model.family, asOf: model.as_of, ootAuc: model.metrics.oot_auc }));
    }),
  };
}
