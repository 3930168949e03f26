// The floor a pipeline run is held against: the same core functions the activities call, for every month, in one
// process, without Temporal, with all the I/O kept (the four sources read, every bronze/silver/gold partition written,
// the three families trained, every month scored, the monitoring table computed). What the pipeline takes beyond it
// is orchestration: workflow tasks, waiting for slots, and the fixed costs each activity pays.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../lib/config.js';
import { MODEL_FAMILIES } from '../../lib/contracts.js';
import { monthRange, type Month } from '../../lib/months.js';
import { latestLabelledMonth } from '../../core/datamart/inventory.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { selectBest } from '../../lib/model-selection.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { computeMonitoringTable, monitoringSettings } from '../../core/monitoring/table.js';
import { scoreMonth } from '../../core/scoring/score-month.js';

export interface FloorResult {
  /** Wall seconds per stage and in all. */
  seconds: { etl: number; training: number; scoring: number; monitoring: number; total: number };
  /** CPU seconds of this process (all its threads: DuckDB, libxgboost, onnxruntime) over the whole floor. */
  cpuSeconds: number;
  /** The same CPU seconds per stage. */
  cpuSecondsByStage: { etl: number; training: number; scoring: number; monitoring: number };
  bronzeRows: number;
  scoredRows: number;
  modelId: string | null;
  /** The candidates trained (each family's test and OOT AUC), as the training workflow reports them. */
  candidates: Array<{ family: string; testAuc: number; ootAuc: number }>;
}

export async function runFloor(options: { work: string; sourceDir: string; from: Month; to: Month }): Promise<FloorResult> {
  const config = loadConfig({ DATAMART_DIR: join(options.work, 'datamart'), MODEL_BANK_DIR: join(options.work, 'model_bank'), REPORTS_DIR: join(options.work, 'reports') });
  const datamartDir = config.DATAMART_DIR;
  const modelBankDir = config.MODEL_BANK_DIR;
  await mkdir(datamartDir, { recursive: true });
  const months = monthRange(options.from, options.to);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let t = started;
  let stageCpu = cpu;
  const cpuLaps: number[] = [];
  const lap = () => {
    const now = performance.now();
    const seconds = (now - t) / 1000;
    t = now;
    const used = process.cpuUsage(stageCpu);
    stageCpu = process.cpuUsage();
    cpuLaps.push((used.user + used.system) / 1e6);
    return seconds;
  };

  let bronzeRows = 0;
  for (const month of months) {
    const result = await materializeMonth({ datamartDir, sourceDir: options.sourceDir, month, maxQuarantineShare: config.MAX_QUARANTINE_SHARE });
    bronzeRows += result.bronze.reduce((sum, bronze) => sum + bronze.rows, 0);
  }
  const etl = lap();

  const asOf = await latestLabelledMonth(datamartDir, options.from, options.to);
  let modelId: string | null = null;
  let trained: FloorResult['candidates'] = [];
  if (asOf) {
    const trainingSet = await buildTrainingSet({ datamartDir, modelBankDir, asOf, windowMonths: config.TRAINING_WINDOW_MONTHS });
    const candidates = await Promise.all(MODEL_FAMILIES.map((family) => trainCandidate({ trainingSet, family })));
    trained = candidates.map((candidate) => ({ family: candidate.family, testAuc: candidate.metrics.test_auc, ootAuc: candidate.metrics.oot_auc }));
    const workflow = { workflowId: 'floor', runId: 'floor' };
    modelId = (await registerModel({ modelBankDir, trainingSet, candidate: selectBest(candidates), workflow })).modelId;
  }
  const training = lap();

  let scoredRows = 0;
  if (modelId) {
    for (const month of months) scoredRows += (await scoreMonth({ datamartDir, modelBankDir, month, modelId })).rows;
  }
  const scoring = lap();
  if (modelId) {
    await computeMonitoringTable(monitoringSettings(config, { datamartDir, modelBankDir }), options.to, modelId);
  }
  const monitoring = lap();
  const used = process.cpuUsage(cpu);
  return {
    seconds: { etl, training, scoring, monitoring, total: (performance.now() - started) / 1000 },
    cpuSeconds: (used.user + used.system) / 1e6,
    cpuSecondsByStage: { etl: cpuLaps[0], training: cpuLaps[1], scoring: cpuLaps[2], monitoring: cpuLaps[3] },
    bronzeRows,
    scoredRows,
    modelId,
    candidates: trained,
  };
}
