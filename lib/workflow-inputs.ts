// zod schemas of workflow inputs: whatever starts a workflow (a client script, the temporal CLI, a schedule) is an
// outside caller, so each workflow validates its input first. Pure: imported by workflows. Each schema is built on its
// first parse (z.lazy): every workflow run evaluates this module afresh (the SDK isolates module state per run), and
// building all of them cost each month and scoring child ~3 ms of workflow-thread CPU for the one it parses.
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { modelIdSchema } from './model-id.js';
import { WorkflowFailure } from './errors.js';
import { compareMonths, monthSchema } from './months.js';

const fromNotAfterTo = (value: { from: string; to: string }) => compareMonths(value.from, value.to) <= 0;
const fromNotAfterToMessage = { message: '`from` must not be after `to`' };

/**
 * Months whose child workflows are in flight at once, by default. The workers' activity slots bound how many do work
 * at the same time; more children in flight than one worker's slots keep the slots busy while children start and
 * finish (their workflow tasks), and feed every worker of a cluster. Measured at S = 1 on 2 cores: phase 2's wall
 * with no activity running halves from 4 to 24 in flight; at 12, the 12 short scoring activities of the first children
 * end before the next children have started theirs (a child takes ~0.2 s from start to its activity).
 */
export const DEFAULT_MONTHS_IN_FLIGHT = 24;
/** How many months in flight a run may ask for. */
export const monthsInFlightSchema = z.number().int().min(1).max(64);

export const backfillInputSchema = z.lazy(() =>
  z.object({
    from: monthSchema,
    to: monthSchema,
    sourceDir: z.string().min(1),
    /** Months to recompute even when their partitions are current (with `force`); they must lie in from..to. */
    months: z.array(monthSchema).optional(),
    /** Recompute `months` (every month of the range when `months` is absent) whatever their lineage says. */
    force: z.boolean().default(false),
    trainAt: monthSchema.optional(),
    /**
     * An operator accepts the known gaps of these months (their incomplete source slices as they are now), with a
     * reason that is recorded: a training then reads them (--accept-incomplete M --reason TEXT).
     */
    acceptIncomplete: z.object({ months: z.array(monthSchema).min(1), reason: z.string().min(1) }).optional(),
    parallelism: monthsInFlightSchema.default(DEFAULT_MONTHS_IN_FLIGHT),
    /** Continue-as-new once history passes this many events (tests lower it to prove the hand-over). */
    maxHistoryEvents: z.number().int().min(50).default(5000),
    /** Carried across continue-as-new. */
    carried: z
      .object({
        done: z.array(monthSchema),
        failed: z.array(z.object({ month: monthSchema, error: z.string() })),
        skipped: z.array(monthSchema),
        trainAt: monthSchema.nullable(),
        training: z
          .object({ modelId: z.string(), promoted: z.boolean(), reused: z.boolean().optional(), reason: z.string(), workflowId: z.string() })
          .nullable(),
        trainingBlocked: z.string().nullable().default(null),
      })
      .optional(),
  })
    .refine(fromNotAfterTo, fromNotAfterToMessage)
    .refine((value) => (value.months ?? []).every((m) => compareMonths(m, value.from) >= 0 && compareMonths(m, value.to) <= 0), {
      message: '`months` must lie within from..to',
    }),
);
export type BackfillInput = z.input<typeof backfillInputSchema>;

export const monthPipelineInputSchema = z.lazy(() =>
  z.object({
    /** Defaults to the month of the scheduled start (the monthly schedule passes none). */
    month: monthSchema.optional(),
    sourceDir: z.string().min(1),
    /** Score with this model; undefined: the production model if there is one; null: do not score. */
    modelId: modelIdSchema.nullable().optional(),
    /** Set by a forced backfill (its run id): the ETL reads and hashes the source files again, cache or not. */
    restage: z.string().min(1).optional(),
  }),
);
export type MonthPipelineInput = z.input<typeof monthPipelineInputSchema>;

export const trainingInputSchema = z.lazy(() =>
  z.object({
    asOf: monthSchema,
    reason: z.string().default('scheduled training'),
    /** An operator's retrain (cooldown bypassed): recorded with the registry event. */
    forced: z.boolean().default(false),
    /** Overrides PROMOTION_MIN_AUC, which the gate activity reads from the worker's configuration by default. */
    promotionMinAuc: z.number().min(0).max(1).optional(),
  }),
);
export type TrainingInput = z.input<typeof trainingInputSchema>;

export const historyInputSchema = z.lazy(() =>
  z
    .object({
      from: monthSchema,
      to: monthSchema,
      modelId: modelIdSchema.optional(),
      parallelism: monthsInFlightSchema.default(DEFAULT_MONTHS_IN_FLIGHT),
    })
    .refine(fromNotAfterTo, fromNotAfterToMessage),
);
export type HistoryInput = z.input<typeof historyInputSchema>;

export const scoreMonthInputSchema = z.lazy(() =>
  z.object({ month: monthSchema, modelId: modelIdSchema }),
);
export type ScoreMonthInput = z.input<typeof scoreMonthInputSchema>;

export const monitoringInputSchema = z.lazy(() =>
  z.object({
    /** Defaults to the month of the workflow's start (schedules pass none). */
    asOf: monthSchema.optional(),
    modelId: modelIdSchema.optional(),
    /** Earliest application month to monitor; defaults to 24 months before asOf. */
    from: monthSchema.optional(),
  }),
);
export type MonitoringInput = z.input<typeof monitoringInputSchema>;

/**
 * `forced` (the default: an operator's `retrain` or signal) bypasses the cooldown and is logged as `retrain_forced`;
 * monitoring sends `forced: false`, its own decision (cooldown checked) being already in the log.
 */
export const retrainPolicyInputSchema = z.lazy(() =>
  z.object({
    /** Defaults to the month of the workflow's start (the schedule passes none). */
    asOf: monthSchema.optional(),
  }),
);
export type RetrainPolicyInput = z.input<typeof retrainPolicyInputSchema>;

export const forceRetrainSchema = z.lazy(() =>
  z.object({ reason: z.string().min(1), asOf: monthSchema.optional(), forced: z.boolean().default(true) }),
);
export type ForceRetrainRequest = z.input<typeof forceRetrainSchema>;
/**
 * An operator's promotion: `reason` is required by the update's validator (promotions recorded before it had none, so
 * the handler still reads them); `by` names who decided (the CLI sends the OS user); `force` promotes a model once
 * rolled back or rejected even when the gate refuses it, logged as forced.
 */
export const promoteRequestSchema = z.lazy(() =>
  z.object({
    modelId: modelIdSchema,
    reason: z.string().trim().min(1).optional(),
    by: z.string().trim().min(1).optional(),
    force: z.boolean().optional(),
  }),
);
export type PromoteRequest = z.input<typeof promoteRequestSchema>;
/** `reason` is required by the update's validator; `by` names who decided. */
export const rollbackRequestSchema = z.lazy(() =>
  z.object({ reason: z.string().optional(), by: z.string().trim().min(1).optional() }),
);
export type RollbackRequest = z.input<typeof rollbackRequestSchema>;

/** Parses a workflow input; a bad one fails the workflow (not its task) with one readable sentence. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
    const failure = ApplicationFailure.create({
      type: WorkflowFailure.InvalidWorkflowInput,
      message: `invalid ${what} input: ${problems.join('; ')}`,
      nonRetryable: true,
    });
    // The caller's input is at fault, not a line of workflow code: the worker logs "Workflow failed" with this error,
    // and a stack into the workflow bundle would only bury the one sentence that matters.
    failure.stack = `InvalidWorkflowInput: ${failure.message}`;
    throw failure;
  }
  return parsed.data;
}
