// The promotion gate (SPEC §4b): a candidate is judged on its own out-of-time AUC against PROMOTION_MIN_AUC, and
// against the production model only on rows out of sample for both (application months after both models' train and
// test windows, labels mature as of the decision), through DeLong's paired test. In-sample rows are never compared:
// without such a month the decision says `no_fair_comparison`. Both models score through their registered ONNX
// artifacts, so the comparison is what production would see.
import { compareMonths, monthRange, type Month } from '../../lib/months.js';
import { datamart } from '../../lib/layout.js';
import { InvalidSourceData } from '../../lib/errors.js';
import type { ModelMetadata, PromotionAction } from '../../lib/contracts.js';
import { loadScoringModel, type ScoringModel } from './model-loader.js';
import { scoreRows } from './score-rows.js';
import { listPartitionMonths, loadLabelledRows, matureApplicationMonths, requireColumns, type LabelledData } from '../models/dataset.js';
import { auc } from '../ranking-metrics.js';
import { rawFeatureNames } from '../features/preprocessor.js';
import { readRegistry } from '../models/registry.js';
import { productionStaleness } from '../models/staleness.js';
import { delongTest, type PairedAucTest } from '../statistics/delong.js';
import { decidePromotion } from './promotion-rule.js';

/** The evidence columns of a promotions.parquet row (SPEC §4b). */
export interface ComparisonEvidence {
  months_compared: string | null;
  n_rows: number | null;
  candidate_auc: number | null;
  production_auc: number | null;
  auc_diff: number | null;
  auc_diff_low: number | null;
  auc_diff_high: number | null;
  p_value: number | null;
}

export const NO_EVIDENCE: ComparisonEvidence = {
  months_compared: null,
  n_rows: null,
  candidate_auc: null,
  production_auc: null,
  auc_diff: null,
  auc_diff_low: null,
  auc_diff_high: null,
  p_value: null,
};

export interface GateDecision {
  promote: boolean;
  action: Extract<PromotionAction, 'promote' | 'reject' | 'keep'>;
  reason: string;
  /** The candidate's AUC on its own OOT months; NULL when they hold a single class. */
  candidateOotAuc: number | null;
  /** Production's AUC on the fairly compared rows (never on rows it trained on); NULL without a comparison. */
  productionOotAuc: number | null;
  productionModelId: string | null;
  /** The paired comparison on the fair months, or NULLs when there was none. */
  evidence: ComparisonEvidence;
}

export interface GateOptions {
  datamartDir: string;
  modelBankDir: string;
  modelId: string;
  /** PROMOTION_MIN_AUC. */
  minAuc: number;
  /** PROMOTION_NON_INFERIORITY_MARGIN. */
  margin: number;
  /** Labels mature as of this month count; default the newest label-store month (what is known at the decision). */
  asOf?: Month;
  /** Compare with this model instead of the registry's production model. */
  productionModelId?: string | null;
}

type Windows = ModelMetadata['windows'];

/** The last month a model was fitted or selected on: the end of its train and test windows. */
function inSampleEnd(windows: Windows): Month {
  return compareMonths(windows.train.to, windows.test.to) > 0 ? windows.train.to : windows.test.to;
}

/** Months out of sample for both models: after both train and test windows, among the mature ones given. */
export function fairComparisonMonths(a: Windows, b: Windows, matureMonths: readonly Month[]): Month[] {
  const endA = inSampleEnd(a);
  const endB = inSampleEnd(b);
  const end = compareMonths(endA, endB) > 0 ? endA : endB;
  return matureMonths.filter((month) => compareMonths(month, end) > 0).sort(compareMonths);
}

/** `2024-05..2024-06` for a run of consecutive months, else the months listed. */
export function describeMonths(months: readonly Month[]): string {
  if (months.length === 0) return '';
  const run = monthRange(months[0], months[months.length - 1]);
  return run.length === months.length ? `${months[0]}..${months[months.length - 1]}` : months.join(',');
}

/** The newest month of the label store: labels known at the decision. */
export async function latestLabelMonth(datamartDir: string): Promise<Month | null> {
  const months = await listPartitionMonths(datamart.labelStore(datamartDir));
  return months.length > 0 ? months.sort(compareMonths)[months.length - 1] : null;
}

export function evidenceOf(test: (PairedAucTest & { months: string }) | null): ComparisonEvidence {
  if (!test) return NO_EVIDENCE;
  return {
    months_compared: test.months,
    n_rows: test.n,
    candidate_auc: test.aucA,
    production_auc: test.aucB,
    auc_diff: test.diff,
    auc_diff_low: test.low,
    auc_diff_high: test.high,
    p_value: test.pValue,
  };
}

async function scoresOn(model: ScoringModel, data: LabelledData): Promise<Float32Array> {
  requireColumns(data.described, rawFeatureNames(model.model.preprocessor), data.featureFiles[0]);
  return scoreRows(model, data.rows);
}

/**
 * DeLong's paired test of model A against model B on the labelled rows of `months` (labels mature by `asOf`); null when
 * those rows hold one class. A model that cannot read the months' features throws InvalidSourceData.
 */
export async function pairedComparison(options: {
  datamartDir: string;
  modelBankDir: string;
  asOf: Month;
  months: readonly Month[];
  modelA: string;
  modelB: string;
}): Promise<(PairedAucTest & { months: string }) | null> {
  const [a, b] = await Promise.all([loadScoringModel(options.modelBankDir, options.modelA), loadScoringModel(options.modelBankDir, options.modelB)]);
  const data = await loadLabelledRows(options.datamartDir, options.asOf, options.months);
  const labels = data.rows.map((row) => Number(row.label));
  const test = delongTest(await scoresOn(a, data), await scoresOn(b, data), labels);
  return test && { ...test, months: describeMonths(options.months) };
}

export async function evaluatePromotionGate(options: GateOptions): Promise<GateDecision> {
  const { datamartDir, modelBankDir, modelId, minAuc, margin } = options;
  const candidate = await loadScoringModel(modelBankDir, modelId);
  const { windows, as_of } = candidate.model.metadata;
  const ootMonths = monthRange(windows.oot.from, windows.oot.to);
  const ootData = await loadLabelledRows(datamartDir, as_of, ootMonths);
  const candidateOotAuc = auc(await scoresOn(candidate, ootData), ootData.rows.map((row) => Number(row.label)));
  const candidateOotWhere = `OOT months ${windows.oot.from}..${windows.oot.to} (${ootData.rows.length} rows)`;

  const productionModelId = options.productionModelId !== undefined ? options.productionModelId : (await readRegistry(modelBankDir)).production;
  let comparison: (PairedAucTest & { months: string }) | null = null;
  let noComparisonBecause: string | undefined;
  let productionUnscorable: string | undefined;
  let candidateIsNewer = false;
  // Issue 27, production follows the data: a production model trained on data no longer current (production_stale,
  // core/models/staleness.ts) is no bar; the candidate is judged on the minimum alone, and the reason says why.
  const staleness = productionModelId && productionModelId !== modelId ? await productionStaleness(datamartDir, modelBankDir) : null;
  if (staleness?.stale && staleness.production === productionModelId) {
    productionUnscorable = `${staleness.reason.replace(/^production \S+ /, '')}: not compared with, the candidate is judged on the minimum alone`;
  } else if (productionModelId && productionModelId !== modelId && candidateOotAuc !== null && candidateOotAuc >= minAuc) {
    const production = await loadScoringModel(modelBankDir, productionModelId);
    const productionWindows = production.model.metadata.windows;
    candidateIsNewer = compareMonths(windows.oot.to, productionWindows.oot.to) > 0;
    const asOf = options.asOf ?? (await latestLabelMonth(datamartDir)) ?? as_of;
    const fair = fairComparisonMonths(windows, productionWindows, await matureApplicationMonths(datamartDir, asOf));
    if (fair.length === 0) {
      noComparisonBecause = `no application month with labels mature by ${asOf} lies after both ${modelId}'s windows (train/test end ${inSampleEnd(windows)}) and production ${productionModelId}'s (train/test end ${inSampleEnd(productionWindows)}); in-sample months are not compared`;
    } else {
      try {
        comparison = await pairedComparison({ datamartDir, modelBankDir, asOf, months: fair, modelA: modelId, modelB: productionModelId });
        if (!comparison) noComparisonBecause = `the months out of sample for both (${describeMonths(fair)}) hold a single class`;
      } catch (error) {
        // The production model cannot read today's feature store (schema change): it cannot be compared, and the
        // candidate is judged on the minimum alone.
        if (!(error instanceof InvalidSourceData)) throw error;
        productionUnscorable = `cannot score these months (${error.message})`;
      }
    }
  }
  const verdict = decidePromotion({
    candidateId: modelId,
    candidateOotAuc,
    candidateOotWhere,
    minAuc,
    margin,
    productionId: productionModelId,
    productionUnscorable,
    comparison,
    noComparisonBecause,
    candidateIsNewer,
  });
  return {
    promote: verdict.action === 'promote',
    action: verdict.action,
    reason: verdict.reason,
    candidateOotAuc,
    productionOotAuc: comparison?.aucB ?? null,
    productionModelId,
    evidence: evidenceOf(comparison),
  };
}
