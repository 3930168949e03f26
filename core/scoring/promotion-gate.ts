// The promotion gate: a candidate is promoted only when its OOT AUC reaches the minimum AND it is not worse than the
// current production model scored on the same OOT rows (the candidate's OOT months, labels mature by its as-of).
// Both models are scored through their registered ONNX artifacts, so the comparison is what production would see.
import { monthRange } from '../../lib/months.js';
import { InvalidSourceData } from '../../lib/errors.js';
import { loadScoringModel } from './model-loader.js';
import { scoreRows } from './score-rows.js';
import { loadLabelledRows, requireColumns } from '../models/dataset.js';
import { auc } from '../ranking-metrics.js';
import { rawFeatureNames } from '../models/preprocessor.js';
import { readRegistry } from '../models/registry.js';

export interface GateDecision {
  promote: boolean;
  reason: string;
  /** NULL when the OOT rows hold a single class. */
  candidateOotAuc: number | null;
  productionOotAuc: number | null;
  productionModelId: string | null;
}

export interface GateOptions {
  datamartDir: string;
  modelBankDir: string;
  modelId: string;
  /** PROMOTION_MIN_AUC. */
  minAuc: number;
}

const fmt = (value: number) => value.toFixed(4);

export async function evaluatePromotionGate(options: GateOptions): Promise<GateDecision> {
  const { datamartDir, modelBankDir, modelId, minAuc } = options;
  const candidate = await loadScoringModel(modelBankDir, modelId);
  const { windows, as_of } = candidate.model.metadata;
  const months = monthRange(windows.oot.from, windows.oot.to);
  const data = await loadLabelledRows(datamartDir, as_of, months);
  const labels = data.rows.map((row) => Number(row.label));
  const where = `OOT months ${windows.oot.from}..${windows.oot.to} (${data.rows.length} rows)`;

  requireColumns(data.described, rawFeatureNames(candidate.model.preprocessor), data.featureFiles[0]);
  const candidateAuc = auc(await scoreRows(candidate, data.rows), labels);
  if (candidateAuc === null) {
    return {
      promote: false,
      reason: `OOT AUC is undefined on ${where}: a single class, nothing to judge the candidate on`,
      candidateOotAuc: null,
      productionOotAuc: null,
      productionModelId: null,
    };
  }
  const candidateOotAuc = candidateAuc;
  const registry = await readRegistry(modelBankDir);
  const productionModelId = registry.production;
  const decide = (promote: boolean, reason: string, productionOotAuc: number | null = null): GateDecision => ({
    promote,
    reason,
    candidateOotAuc,
    productionOotAuc,
    productionModelId,
  });

  if (productionModelId === modelId) return decide(false, `${modelId} is already the production model`);

  let productionOotAuc: number | null = null;
  let productionNote = '';
  if (productionModelId) {
    const production = await loadScoringModel(modelBankDir, productionModelId);
    try {
      requireColumns(data.described, rawFeatureNames(production.model.preprocessor), data.featureFiles[0]);
      productionOotAuc = auc(await scoreRows(production, data.rows), labels);
    } catch (error) {
      // The production model cannot read today's feature store (schema change): it cannot be compared, and the
      // candidate is judged on the minimum alone.
      if (!(error instanceof InvalidSourceData)) throw error;
      productionNote = `; production ${productionModelId} cannot score these months (${error.message})`;
    }
  }

  if (candidateOotAuc < minAuc) {
    return decide(false, `OOT AUC ${fmt(candidateOotAuc)} on ${where} is below the minimum ${fmt(minAuc)}`, productionOotAuc);
  }
  if (productionOotAuc !== null && candidateOotAuc < productionOotAuc) {
    return decide(
      false,
      `OOT AUC ${fmt(candidateOotAuc)} is worse than production ${productionModelId}'s ${fmt(productionOotAuc)} on the same ${where}`,
      productionOotAuc,
    );
  }
  const versus =
    productionOotAuc !== null
      ? ` and not worse than production ${productionModelId}'s ${fmt(productionOotAuc)}`
      : productionModelId
        ? productionNote
        : '; no production model yet';
  return decide(true, `OOT AUC ${fmt(candidateOotAuc)} on ${where} ≥ minimum ${fmt(minAuc)}${versus}`, productionOotAuc);
}
