// Training activities: thin adapters over core/models (validated input, domain errors as non-retryable failures,
// heartbeats during long work).
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import type { Config } from '../lib/config.js';
import { modelFamilySchema } from '../lib/contracts.js';
import { registerModel } from '../core/models/bank.js';
import { trainCandidate } from '../core/models/candidate.js';
import { buildTrainingSet } from '../core/models/training-set.js';
import { candidateSummarySchema, paramsSchema, trainingSetSummarySchema, type CandidateSummary, type TrainingSetSummary } from '../lib/model-summaries.js';
import { adaptActivity } from './failures.js';
import { heartbeat, heartbeating } from './heartbeat.js';
import type { CandidateFitProgress } from '../core/models/candidate-fit.js';

const month = monthSchema;
const buildInput = z.object({
  asOf: month,
  ootMonths: z.number().int().min(1).max(12).optional(),
  testMonths: z.number().int().min(1).max(12).optional(),
});
const trainInput = z.object({ trainingSet: trainingSetSummarySchema, family: modelFamilySchema, params: paramsSchema.optional() });
const registerInput = z.object({
  trainingSet: trainingSetSummarySchema,
  candidate: candidateSummarySchema,
  workflow: z.object({ workflowId: z.string().min(1), runId: z.string().min(1) }),
});

export function createTrainingActivities(config: Config) {
  return {
    buildTrainingSet: adaptActivity(async (input: z.input<typeof buildInput>): Promise<TrainingSetSummary> => {
      const { asOf, ootMonths, testMonths } = buildInput.parse(input);
      return heartbeating({ stage: 'building training set', asOf }, () => buildTrainingSet({
        datamartDir: config.DATAMART_DIR,
        modelBankDir: config.MODEL_BANK_DIR,
        asOf,
        ootMonths,
        testMonths,
        windowMonths: config.TRAINING_WINDOW_MONTHS,
      }));
    }),
    trainCandidate: adaptActivity(async (input: z.input<typeof trainInput>): Promise<CandidateSummary> => {
      const { trainingSet, family, params } = trainInput.parse(input);
      // A heartbeat per boosting round, with its progress, and one every second whatever the fit does (one round of a
      // random forest is 100 trees: at 100 × the real data it outlasts the heartbeat timeout; a fit may also wait for
      // memory). Cancellation ends the activity at once and stops the fit before its next round.
      const alive: { stage: string; family: string; lastRound?: CandidateFitProgress } = { stage: 'training candidate', family };
      return heartbeating(alive, (signal) =>
        trainCandidate({
          trainingSet,
          family,
          params,
          onProgress: (progress) => {
            signal?.throwIfAborted();
            alive.lastRound = progress;
            heartbeat(progress);
          },
        }),
      );
    }),
    registerModel: adaptActivity(async (input: z.input<typeof registerInput>) => {
      const { trainingSet, candidate, workflow } = registerInput.parse(input);
      // Heartbeats like the other training activities (they share a heartbeat timeout): registering may wait up to 30 s
      // for the registry lock another writer holds, and a silent wait would time out and use up the attempts.
      return heartbeating({ stage: 'registering model', family: candidate.family }, () =>
        registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow, calibrationAlpha: config.CALIBRATION_ALPHA }),
      );
    }),
  };
}
