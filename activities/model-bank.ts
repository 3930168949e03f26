// Model bank activities: the promotion gate and every registry change (promote, rollback, keep as candidate), each
// decision also appended to gold/governance/promotions.parquet with its evidence when the caller names the decision.
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { modelIdSchema, PROMOTION_ACTIONS, promotionEvidenceSchema, type PromotionDecision, type Registry } from '../lib/contracts.js';
import { PromotionRefused } from '../lib/errors.js';
import { challengersOf, wasRolledBack } from '../lib/model-registry.js';
import { listRegisteredModels, readMetadata } from '../core/models/bank.js';
import { evaluatePromotionGate, NO_EVIDENCE, type ComparisonEvidence, type GateDecision } from '../core/scoring/promotion-gate.js';
import { lastEventOf, previousProduction, promote, readRegistry, recordCandidate, rollback } from '../core/models/registry.js';
import { appendPromotionDecision, readPromotionLog } from '../core/models/promotion-log.js';
import { preloadScoringModel } from '../core/scoring/model-loader.js';
import { recordModelChange } from './metrics.js';
import { productionStaleness, type ProductionStaleness } from '../core/models/staleness.js';
import { adaptActivity } from './failures.js';

/** minAuc: an explicit override; by default the gate reads PROMOTION_MIN_AUC from the worker's configuration. */
const gateInput = z.object({ modelId: modelIdSchema, minAuc: z.number().min(0).max(1).optional() });
/**
 * The decision to log beside the registry change: when it was taken (the workflow's clock, so that a retried activity
 * logs it once), by whom, and the gate's evidence. Without it the registry changes and nothing is logged (test setups).
 */
const decisionInput = z.object({
  decidedAt: z.iso.datetime(),
  decidedBy: z.string().min(1),
  action: z.enum(PROMOTION_ACTIONS).optional(),
  productionModelId: z.string().nullable().optional(),
  evidence: promotionEvidenceSchema.optional(),
});
/** An operator's promotion: the gate applies again to a model once rolled back or rejected, unless `force`. */
const operatorInput = z.object({ by: z.string().min(1), force: z.boolean().default(false) });
const promoteInput = z.object({ modelId: modelIdSchema, reason: z.string().min(1), decision: decisionInput.optional(), operator: operatorInput.optional() });
const candidateInput = z.object({ modelId: modelIdSchema, reason: z.string().min(1), decision: decisionInput.optional() });
const rollbackInput = z.object({ reason: z.string().min(1), decision: decisionInput.optional() });

type DecisionInput = z.output<typeof decisionInput>;

export function createModelBankActivities(config: Config) {
  const root = config.MODEL_BANK_DIR;
  const gate = (modelId: string, minAuc = config.PROMOTION_MIN_AUC): Promise<GateDecision> =>
    evaluatePromotionGate({
      datamartDir: config.DATAMART_DIR,
      modelBankDir: root,
      modelId,
      minAuc,
      margin: config.PROMOTION_NON_INFERIORITY_MARGIN,
    });
  const log = (decision: DecisionInput, row: Omit<PromotionDecision, 'decided_at' | 'decided_by' | keyof ComparisonEvidence> & Partial<ComparisonEvidence>) =>
    appendPromotionDecision(config.DATAMART_DIR, {
      ...NO_EVIDENCE,
      ...decision.evidence,
      ...row,
      decided_at: decision.decidedAt,
      decided_by: decision.decidedBy,
    });
  /**
   * Whoever reads or changes the registry is about to score with its production model (phase 2 reads it right before
   * its months' activities, a promotion precedes them): this worker opens that model's session meanwhile.
   */
  const preloadProduction = (registry: Registry): Registry => {
    preloadScoringModel(root, registry.production);
    return registry;
  };

  /** An operator's promotion: the gate's evidence always logged; the gate's verdict binding for a model turned down before. */
  async function promoteByOperator(modelId: string, reason: string, decision: DecisionInput, operator: z.output<typeof operatorInput>): Promise<Registry> {
    const registry = await readRegistry(root);
    const productionModelId = registry.production;
    if (productionModelId === modelId) {
      const last = lastEventOf(registry, modelId);
      const repeat = last?.stage === 'production' && last.reason.startsWith(`${reason} [operator ${operator.by}`);
      await log(decision, {
        action: repeat ? 'promote' : 'keep',
        candidate_model_id: modelId,
        production_model_id: productionModelId,
        reason: repeat ? last.reason : `operator ${operator.by}: ${reason}; ${modelId} is already the production model`,
      });
      return registry;
    }
    const verdict = await gate(modelId);
    const rejectedBefore = (await readPromotionLog(config.DATAMART_DIR)).some(
      (row) => row.candidate_model_id === modelId && row.action === 'reject' && row.decided_at !== decision.decidedAt,
    );
    const turnedDown = wasRolledBack(registry, modelId) ? 'rolled back before' : rejectedBefore ? 'rejected before' : null;
    const evidence = { ...verdict.evidence, production_model_id: productionModelId, candidate_model_id: modelId };
    if (turnedDown && !verdict.promote && !operator.force) {
      const refusal = `operator ${operator.by}: ${reason}; refused: ${modelId} was ${turnedDown} and does not pass the gate now (${verdict.reason}); --force promotes it anyway`;
      await log(decision, { ...evidence, action: 'reject', reason: refusal });
      throw new PromotionRefused(refusal);
    }
    const how = turnedDown
      ? verdict.promote
        ? `${turnedDown}, passes the gate again: ${verdict.reason}`
        : `FORCED past the gate (${turnedDown}; the gate says: ${verdict.reason})`
      : `the gate's view, for the record: ${verdict.action}: ${verdict.reason}`;
    const fullReason = `${reason} [operator ${operator.by}; ${how}]`;
    await readMetadata(root, modelId); // only a registered, readable model can go to production
    const promoted = await promote(root, modelId, fullReason);
    recordModelChange('promote');
    await log(decision, { ...evidence, action: 'promote', reason: fullReason });
    return preloadProduction(promoted);
  }

  return {
    evaluatePromotionGate: adaptActivity(async (input: z.input<typeof gateInput>): Promise<GateDecision> => {
      const { modelId: id, minAuc } = gateInput.parse(input);
      return gate(id, minAuc);
    }),
    promoteModel: adaptActivity(async (input: z.input<typeof promoteInput>): Promise<Registry> => {
      const { modelId: id, reason, decision, operator } = promoteInput.parse(input);
      if (operator) {
        if (!decision) throw new Error('an operator promotion needs its decision (time and name)');
        return promoteByOperator(id, reason, decision, operator);
      }
      await readMetadata(root, id); // only a registered, readable model can go to production
      const before = (await readRegistry(root)).production;
      const registry = await promote(root, id, reason);
      recordModelChange('promote');
      if (decision) {
        await log(decision, {
          action: decision.action ?? 'promote',
          candidate_model_id: id,
          production_model_id: decision.productionModelId !== undefined ? decision.productionModelId : before === id ? null : before,
          reason,
        });
      }
      return preloadProduction(registry);
    }),
    rollbackModel: adaptActivity(async (input: z.input<typeof rollbackInput>): Promise<Registry> => {
      const { reason, decision } = rollbackInput.parse(input);
      const before = await readRegistry(root);
      const target = previousProduction(before);
      const registry = await rollback(root, reason);
      recordModelChange('rollback');
      if (decision) {
        await log(decision, { action: 'rollback', candidate_model_id: target, production_model_id: before.production, reason });
      }
      return preloadProduction(registry);
    }),
    recordCandidate: adaptActivity(async (input: z.input<typeof candidateInput>): Promise<Registry> => {
      const { modelId: id, reason, decision } = candidateInput.parse(input);
      const registry = await recordCandidate(root, id, reason);
      if (decision) {
        await log(decision, {
          action: decision.action ?? 'reject',
          candidate_model_id: id,
          production_model_id: decision.productionModelId ?? registry.production,
          reason,
        });
      }
      return registry;
    }),
    readRegistry: adaptActivity(async (): Promise<Registry> => preloadProduction(await readRegistry(root))),
    /** The production model and the challengers scored in shadow beside it (at most MAX_CHALLENGERS, newest first). */
    readModelRoles: adaptActivity(async (): Promise<{ production: string | null; challengers: string[] }> => {
      const registry = preloadProduction(await readRegistry(root));
      return { production: registry.production, challengers: challengersOf(registry, config.MAX_CHALLENGERS) };
    }),
    /** Whether the production model's training data is still what the datamart holds (production_stale). */
    productionStaleness: adaptActivity(async (): Promise<ProductionStaleness> => productionStaleness(config.DATAMART_DIR, root)),
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
