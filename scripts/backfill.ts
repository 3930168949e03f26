// `npm run backfill -- --from YYYY-MM --to YYYY-MM [--train-at YYYY-MM] [--months M1,M2 [--force]] [--parallelism N]
//   [--source DIR] [--accept-incomplete M1,M2 --reason TEXT] [--no-wait] [--plan]`
import { resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { z } from 'zod';
import { compareMonths, monthRange, monthSchema, type Month } from '../lib/months.js';
import { loadConfig } from '../lib/config.js';
import { describeStaleCause } from '../lib/stale-causes.js';
import { planMonths, type MonthPlan } from '../core/datamart/plan.js';
import { closeSharedDuckDB } from '../core/duckdb.js';
import { workflowIds } from '../lib/temporal.js';
import { sourceFolderProblems } from '../core/etl/source-folder.js';
import { backfillWorkflow } from '../workflows/index.js';
import type { BackfillResult } from '../workflows/backfill.js';
import { DEFAULT_MONTHS_IN_FLIGHT, monthsInFlightSchema } from '../lib/workflow-inputs.js';
import { monthOption, NO_WAIT, parseCommandLine, UsageError } from './cli.js';
import { ensureLifecycle, openClient, printJson, runCommand, waitWithProgress } from './client.js';
import { joinedBackfills } from '../activities/coordination.js';

const DEFAULT_SOURCE = 'data/raw';

runCommand(async () => {
  const options = parseCommandLine('backfill', 'Phase 1: ETL every month of a range whose gold partitions are not current for the sources, training at --train-at (default: the last month with mature labels) once every month feeding it is complete.', {
    from: { type: 'string', description: 'first month, YYYY-MM (default: the first of --months)', schema: monthOption.optional() },
    to: { type: 'string', description: 'last month, YYYY-MM (default: the last of --months)', schema: monthOption.optional() },
    'train-at': { type: 'string', description: 'training month (default: last month with mature labels)', schema: monthOption.optional() },
    months: {
      type: 'string',
      description: 'months to reprocess, YYYY-MM,YYYY-MM (with --force: even when current)',
      schema: z.string().transform((text) => text.split(',').map((m) => m.trim())).pipe(z.array(monthSchema).min(1)).optional(),
    },
    force: { type: 'boolean', description: 'recompute the --months (or the whole range) whatever their lineage says' },
    parallelism: { type: 'string', description: `months in flight at once (default ${DEFAULT_MONTHS_IN_FLIGHT})`, schema: z.coerce.number().pipe(monthsInFlightSchema).default(DEFAULT_MONTHS_IN_FLIGHT) },
    source: { type: 'string', description: `folder of the four source CSVs (default ${DEFAULT_SOURCE})`, schema: z.string().default(DEFAULT_SOURCE) },
    'accept-incomplete': {
      type: 'string',
      description: 'accept the known gaps of these months, YYYY-MM,YYYY-MM (their incomplete source data as it is now), so a training reads them; needs --reason',
      schema: z.string().transform((text) => text.split(',').map((m) => m.trim())).pipe(z.array(monthSchema).min(1)).optional(),
    },
    reason: { type: 'string', description: 'why the gaps of --accept-incomplete are accepted (recorded with them)', schema: z.string().min(1).optional() },
    'no-wait': NO_WAIT,
    plan: { type: 'boolean', description: 'print the months whose gold partitions are stale for the sources, with why, and start nothing' },
  });
  const sorted = [...(options.months ?? [])].sort(compareMonths);
  const from = options.from ?? sorted[0];
  const to = options.to ?? sorted[sorted.length - 1];
  // Everything checkable before a workflow starts is checked here, with the fix in the message.
  if (!from || !to) throw new UsageError('backfill: give --from and --to, or --months');
  if (compareMonths(from, to) > 0) throw new UsageError(`backfill: --from ${from} is after --to ${to}: swap them`);
  for (const month of [...sorted, ...(options['train-at'] ? [options['train-at']] : [])]) {
    if (compareMonths(month, from) < 0 || compareMonths(month, to) > 0) throw new UsageError(`backfill: ${month} lies outside ${from}..${to}`);
  }
  if (options['accept-incomplete'] && !options.reason) throw new UsageError('backfill: --accept-incomplete needs --reason TEXT (it is recorded with the accepted gap)');
  const acceptIncomplete = options['accept-incomplete'] ? { months: options['accept-incomplete'], reason: options.reason! } : undefined;
  const sourceDir = resolve(options.source);
  const problems = await sourceFolderProblems(sourceDir);
  if (problems.length > 0) throw new UsageError(`backfill: the sources are not usable:\n  ${problems.join('\n  ')}\nput the four CSV files there or pass --source DIR`);

  if (options.plan) {
    // Without a server: the planner reads the datamart and the sources (staging them, cached) and writes no partition.
    const months = options.months && !options.from && !options.to ? sorted : monthRange(from, to);
    try {
      console.log(formatPlan(await planMonths(loadConfig().DATAMART_DIR, sourceDir, months), sourceDir));
    } finally {
      await closeSharedDuckDB();
    }
    return;
  }

  const { client, config, close } = await openClient();
  try {
    await ensureLifecycle(client, config);
    // One source folder per datamart at a time, asked of the datamart's backfill coordinator before starting anything
    // (the coordinator admits the workflow itself, so of two started at the same moment one gives way).
    const others = ((await joinedBackfills(client, config.TEMPORAL_TASK_QUEUE)) ?? []).filter((other) => other.sourceDir !== sourceDir);
    if (others.length > 0) {
      throw new UsageError(
        `backfill: refused: ${others.map((o) => `${o.backfillId} is running on this datamart with source folder ${o.sourceDir}`).join('; ')}. ` +
          `One source folder at a time: wait for it to finish (npm run status), then run this backfill of ${sourceDir} again.`,
      );
    }
    const workflowId = workflowIds.backfill(from, to, sourceDir === resolve(DEFAULT_SOURCE) ? undefined : sourceDir);
    const handle = await client.workflow.start(backfillWorkflow, {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from, to, trainAt: options['train-at'], months: options.months, force: options.force, parallelism: options.parallelism, sourceDir, acceptIncomplete }],
      // A second caller with the same range and sources while it runs attaches to the same execution.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `phase 1 backfill ${from}..${to}${options.months ? ` (months ${options.months.join(',')}${options.force ? ', forced' : ''})` : ''}`,
    });
    console.log(`backfill ${workflowId} (run ${handle.firstExecutionRunId})`);
    if (options['no-wait']) return;
    let result: BackfillResult;
    try {
      result = await waitWithProgress<BackfillResult>(handle, true);
    } catch (error) {
      // A failed backfill (months failed, training blocked) still says which model is in production after it.
      const details = error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure ? error.cause.details?.[0] : undefined;
      const production = details ? productionLine(details as BackfillResult) : '';
      if (production) console.error(production);
      throw error;
    }
    printJson(result);
    const production = productionLine(result);
    if (production) console.log(production);
  } finally {
    await close();
  }
});

/** The last line of the summary: the model in production after the run, never only the one trained or found. */
function productionLine(result: BackfillResult): string {
  if (result.production === undefined) return '';
  if (result.production === null) return 'production model after this run: none';
  const stale = result.productionStale ? ' (production_stale: trained on data no longer current)' : '';
  return `production model after this run: ${result.production}${stale}`;
}

/**
 * The plan for people: a first line with the count, then one line per cause of each stale month, oldest first
 * (`2024-03  gold/feature_store/2024-03: source changed: clickstream 2024-01 (bronze/clickstream/2024-01)`); current
 * months are only counted.
 */
function formatPlan(plans: MonthPlan[], sourceDir: string): string {
  const stale = plans.filter((plan) => !plan.current);
  const range = (months: Month[]) => (months.length === 0 ? 'no months' : `${months[0]}..${months[months.length - 1]}`);
  const lines = [`plan for ${range(plans.map((plan) => plan.month))} from ${sourceDir}: ${stale.length} of ${plans.length} months stale`];
  for (const plan of stale) for (const cause of plan.causes) lines.push(`${plan.month}  ${describeStaleCause(cause)}`);
  return lines.join('\n');
}
