// Scoring activity: one month of the feature store scored by one registered model.
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { modelIdSchema } from '../lib/contracts.js';
import { scoreMonth, type ModelRole, type ScoreMonthResult } from '../core/scoring/score-month.js';
import { readRegistry } from '../core/models/registry.js';
import { recordScored } from './metrics.js';
import { adaptActivity } from './failures.js';
import { heartbeat } from './heartbeat.js';

const scoreInput = z.object({
  month: monthSchema,
  modelId: modelIdSchema,
});

/** The model's role now: production, or a challenger (any other registered model) scored in shadow. */
async function roleOf(modelBankDir: string, modelId: string): Promise<ModelRole> {
  return (await readRegistry(modelBankDir)).production === modelId ? 'production' : 'challenger';
}

export function createScoringActivities(config: Config) {
  return {
    scoreMonth: adaptActivity(async (input: z.input<typeof scoreInput>): Promise<ScoreMonthResult> => {
      const { month, modelId } = scoreInput.parse(input);
      heartbeat({ stage: 'loading model', month, modelId });
      const result = await scoreMonth({
        datamartDir: config.DATAMART_DIR,
        modelBankDir: config.MODEL_BANK_DIR,
        month,
        modelId,
        role: await roleOf(config.MODEL_BANK_DIR, modelId),
        onProgress: (stage) => heartbeat({ stage, month, modelId }),
      });
      recordScored(result.rows, result.seconds);
      return result;
    }),
  };
}
