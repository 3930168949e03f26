// Governance's decisions about which model is in production, from paired evidence on mature months out of sample for
// both models (SPEC §4b), each appended to gold/governance/promotions.parquet by `governance`:
// - automatic rollback: production significantly worse than the previous production model on the same mature `after`
//   rows (DeLong, the whole 95% interval of previous − production above 0) → rolled back when AUTO_ROLLBACK, else
//   alerted only (logged as `keep`);
// - challengers: a challenger that wins on at least CHALLENGER_MIN_MONTHS such months by the promotion rule is
//   promoted when AUTO_PROMOTE_CHALLENGER, else proposed (alerted, logged as `keep` with the proposal).
import type { Month } from '../../lib/months.js';
import type { PromotionDecision } from '../../lib/contracts.js';
import { challengersOf, previousProduction } from '../../lib/model-registry.js';
import { describeModel } from '../../lib/model-id.js';
import { readMetadata } from '../models/metadata.js';
import { matureApplicationMonths } from '../models/dataset.js';
import { promote, readRegistry, rollback } from '../models/registry.js';
import { appendPromotionDecision, readPromotionLog } from '../models/promotion-log.js';
import { describeMonths, evidenceOf, fairComparisonMonths, pairedComparison } from '../scoring/promotion-gate.js';
import { decidePromotion, describeComparison } from '../scoring/promotion-rule.js';
import { compareMonths } from '../../lib/months.js';

export interface ModelDecisionSettings {
  datamartDir: string;
  modelBankDir: string;
  minAuc: number;
  margin: number;
  maxChallengers: number;
  minChallengerMonths: number;
  autoPromoteChallenger: boolean;
  autoRollback: boolean;
}

export interface ModelDecisionOutcome {
  /** The rows appended to promotions.parquet (or found there, for a retried activity). */
  decisions: PromotionDecision[];
  /** One line per alert to send (a rollback, a degradation with the switch off, a proposal). */
  alerts: string[];
  registryChanged: boolean;
}

/** Decides, changes the registry where the switches allow, logs each decision. `now` is the workflow's clock. */
export async function decideModels(settings: ModelDecisionSettings, input: { asOf: Month; now: string }): Promise<ModelDecisionOutcome> {
  const decidedAt = new Date(input.now).toISOString();
  const already = (await readPromotionLog(settings.datamartDir)).filter((row) => row.decided_at === decidedAt && row.decided_by === 'governance');
  if (already.length > 0) return { decisions: already, alerts: [], registryChanged: false }; // a retried activity

  const registry = await readRegistry(settings.modelBankDir);
  const production = registry.production;
  if (!production) return { decisions: [], alerts: [], registryChanged: false };
  const mature = await matureApplicationMonths(settings.datamartDir, input.asOf);
  const productionMeta = await readMetadata(settings.modelBankDir, production);
  const decisions: PromotionDecision[] = [];
  const alerts: string[] = [];
  const log = async (row: Omit<PromotionDecision, 'decided_at' | 'decided_by'>) => {
    const decision = { ...row, decided_at: decidedAt, decided_by: 'governance' };
    await appendPromotionDecision(settings.datamartDir, decision);
    decisions.push(decision);
  };

  // 1. Degradation: production against the model a rollback would return to, on production's mature `after` months.
  const previous = previousProduction(registry);
  if (previous) {
    const previousMeta = await readMetadata(settings.modelBankDir, previous);
    const months = fairComparisonMonths(productionMeta.windows, previousMeta.windows, mature).filter(
      (month) => compareMonths(month, productionMeta.windows.oot.to) > 0,
    );
    const test =
      months.length > 0
        ? await pairedComparison({ ...settings, asOf: input.asOf, months, modelA: previous, modelB: production })
        : null;
    if (test && test.low > 0) {
      const evidence = `previous ${previous} against production ${production}: ${describeComparison(test)}`;
      if (settings.autoRollback) {
        const reason = `automatic rollback: production is significantly worse on mature after-months: ${evidence}`;
        await rollback(settings.modelBankDir, reason);
        await log({ ...evidenceOf(test), action: 'rollback', candidate_model_id: previous, production_model_id: production, reason });
        alerts.push(`${reason}; production is now ${previous}`);
        return { decisions, alerts, registryChanged: true };
      }
      const reason = `production is significantly worse than the previous production model on mature after-months (${evidence}); AUTO_ROLLBACK is off: alerted only, roll back with npm run rollback -- --reason …`;
      await log({ ...evidenceOf(test), action: 'keep', candidate_model_id: previous, production_model_id: production, reason });
      alerts.push(reason);
    }
  }

  // 2. Challengers, on shadow months out of sample for both.
  for (const challenger of challengersOf(registry, settings.maxChallengers)) {
    const meta = await readMetadata(settings.modelBankDir, challenger);
    const months = fairComparisonMonths(meta.windows, productionMeta.windows, mature);
    if (months.length < settings.minChallengerMonths) continue;
    const test = await pairedComparison({ ...settings, asOf: input.asOf, months, modelA: challenger, modelB: production });
    if (!test) continue;
    const verdict = decidePromotion({
      candidateId: challenger,
      candidateOotAuc: test.aucA,
      candidateOotWhere: `shadow months ${describeMonths(months)} (${test.n} rows)`,
      minAuc: settings.minAuc,
      margin: settings.margin,
      productionId: production,
      comparison: test,
      candidateIsNewer: compareMonths(meta.windows.oot.to, productionMeta.windows.oot.to) > 0,
    });
    if (verdict.action !== 'promote') continue;
    if (settings.autoPromoteChallenger) {
      const reason = `challenger ${describeModel(meta)} promoted on shadow evidence: ${verdict.reason}`;
      await promote(settings.modelBankDir, challenger, reason);
      await log({ ...evidenceOf(test), action: 'promote', candidate_model_id: challenger, production_model_id: production, reason });
      alerts.push(reason);
      return { decisions, alerts, registryChanged: true };
    }
    const reason = `proposal: promote challenger ${describeModel(meta)} on shadow evidence: ${verdict.reason}; AUTO_PROMOTE_CHALLENGER is off: production kept until an operator promotes it (npm run promote -- --model ${challenger} --reason …)`;
    await log({ ...evidenceOf(test), action: 'keep', candidate_model_id: challenger, production_model_id: production, reason });
    alerts.push(reason);
  }
  return { decisions, alerts, registryChanged: false };
}
