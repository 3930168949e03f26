// What explanations (gold/explanations, SPEC §4c) add to phase 2, per model family: every month's scoreMonth with and
// without its explanations partition, alternated `rounds` times in one process on the same datamart, so both figures
// see the same load. The figure is the scoreMonth seconds summed over the months (what phase 2's activities spend);
// its ratio, not the seconds, is what a loaded machine leaves comparable.
import { MODEL_FAMILIES, type ModelFamily } from '../../lib/contracts.js';
import type { Month } from '../../lib/months.js';
import { listRegisteredModels, registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { scoreMonth } from '../../core/scoring/score-month.js';

export interface ExplanationCost {
  family: ModelFamily;
  modelId: string;
  months: number;
  rows: number;
  /** scoreMonth seconds summed over the months, per round. */
  secondsWithout: number[];
  secondsWith: number[];
  /**
   * The process's CPU seconds (every thread: JS, DuckDB, libxgboost, onnxruntime) per round: less bent by other jobs
   * on the machine than the wall, and what phase 2's activities take from the worker's cores.
   */
  cpuSecondsWithout: number[];
  cpuSecondsWith: number[];
  /** Best round with explanations − best round without. */
  extraSeconds: number;
  /** extraSeconds ÷ the best round without: what explanations add to phase 2's scoring. */
  extraShare: number;
  /** The same from the CPU seconds (best round each). */
  extraCpuShare: number;
}

/** Issue 29's target: explanations add at most this share to phase 2. */
export const EXPLANATION_COST_TARGET = 0.25;

/**
 * A registered model of every family trained on the same training set as `modelId` (its as-of): the registered ones
 * as they are, the missing families trained and registered now (phase 1 registers only the best candidate).
 */
export async function modelOfEveryFamily(options: { datamartDir: string; modelBankDir: string; modelId: string; windowMonths: number }): Promise<Record<ModelFamily, string>> {
  const registered = await listRegisteredModels(options.modelBankDir);
  const reference = registered.find((model) => model.model_id === options.modelId);
  if (!reference) throw new Error(`model ${options.modelId} is not registered in ${options.modelBankDir}`);
  const sameData = registered.filter((model) => model.training_data_sha256 === reference.training_data_sha256);
  const models = Object.fromEntries(sameData.map((model) => [model.family, model.model_id])) as Partial<Record<ModelFamily, string>>;
  const missing = MODEL_FAMILIES.filter((family) => !models[family]);
  if (missing.length > 0) {
    const trainingSet = await buildTrainingSet({ datamartDir: options.datamartDir, modelBankDir: options.modelBankDir, asOf: reference.as_of, windowMonths: options.windowMonths });
    for (const family of missing) {
      const candidate = await trainCandidate({ trainingSet, family });
      models[family] = (await registerModel({ modelBankDir: options.modelBankDir, trainingSet, candidate, workflow: { workflowId: 'bench-explanation-cost', runId: 'bench' } })).modelId;
    }
  }
  return models as Record<ModelFamily, string>;
}

const since = (start: number) => (performance.now() - start) / 1000;

export async function measureExplanationCost(options: {
  datamartDir: string;
  modelBankDir: string;
  months: readonly Month[];
  models: Record<ModelFamily, string>;
  rounds: number;
  log?: (line: string) => void;
}): Promise<ExplanationCost[]> {
  const { datamartDir, modelBankDir, months, rounds } = options;
  const results: ExplanationCost[] = [];
  for (const family of MODEL_FAMILIES) {
    const modelId = options.models[family];
    const rounds_ = { without: [] as number[], with: [] as number[] };
    const cpu = { without: [] as number[], with: [] as number[] };
    let rows = 0;
    // Once untimed: the model's session and booster loaded and the files cached before either is timed.
    for (const month of months) await scoreMonth({ datamartDir, modelBankDir, month, modelId, reuseExplanations: false });
    for (let round = 0; round < rounds; round++) {
      for (const explain of [false, true]) {
        let sum = 0;
        rows = 0;
        const cpuBefore = process.cpuUsage();
        for (const month of months) {
          const started = performance.now();
          rows += (await scoreMonth({ datamartDir, modelBankDir, month, modelId, explain, reuseExplanations: false })).rows;
          sum += since(started);
        }
        rounds_[explain ? 'with' : 'without'].push(sum);
        const used = process.cpuUsage(cpuBefore);
        cpu[explain ? 'with' : 'without'].push((used.user + used.system) / 1e6);
      }
    }
    const bestWithout = Math.min(...rounds_.without);
    const extraSeconds = Math.min(...rounds_.with) - bestWithout;
    const cost: ExplanationCost = {
      family,
      modelId,
      months: months.length,
      rows,
      secondsWithout: rounds_.without.map(round3),
      secondsWith: rounds_.with.map(round3),
      extraSeconds: round3(extraSeconds),
      extraShare: round3(extraSeconds / bestWithout),
      cpuSecondsWithout: cpu.without.map(round3),
      cpuSecondsWith: cpu.with.map(round3),
      extraCpuShare: round3(Math.min(...cpu.with) / Math.min(...cpu.without) - 1),
    };
    options.log?.(formatExplanationCost(cost));
    results.push(cost);
  }
  return results;
}

const round3 = (value: number) => Number(value.toFixed(3));

export function formatExplanationCost(cost: ExplanationCost): string {
  const best = (list: number[]) => Math.min(...list).toFixed(2);
  return (
    `${cost.family.padEnd(8)} ${cost.rows} rows in ${cost.months} months: scoreMonth seconds summed, best of ${cost.secondsWith.length}: ` +
    `${best(cost.secondsWithout)} without explanations, ${best(cost.secondsWith)} with (+${cost.extraSeconds.toFixed(2)} s, +${(cost.extraShare * 100).toFixed(0)}%); ` +
    `all rounds without [${cost.secondsWithout.map((s) => s.toFixed(2)).join(', ')}], with [${cost.secondsWith.map((s) => s.toFixed(2)).join(', ')}]; ` +
    `CPU s without [${cost.cpuSecondsWithout.map((s) => s.toFixed(2)).join(', ')}], with [${cost.cpuSecondsWith.map((s) => s.toFixed(2)).join(', ')}] (+${(cost.extraCpuShare * 100).toFixed(0)}%)`
  );
}
