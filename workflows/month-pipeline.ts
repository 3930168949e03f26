import { ApplicationFailure, isCancellation, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { describeIncompleteSlice } from '../lib/completeness.js';
import { addMonths, monthOf } from '../lib/months.js';
import { searchAttributes } from '../lib/temporal.js';
import { monthPipelineInputSchema, parseInput, type MonthPipelineInput } from '../lib/workflow-inputs.js';
import { etl, quickReads, sendPipelineAlert } from './activity-proxies.js';
import { describeFailure } from './failure-text.js';
import { scoreChallengers, scoreMonthChild } from './children.js';
import type { MonthEtlSummary } from '../lib/month-etl.js';
import { WorkflowFailure } from '../lib/errors.js';

/** The month's ETL summary (counts per source and gold table) and the model it was scored with, if any. */
export type MonthPipelineResult = Omit<MonthEtlSummary, 'rows'> & {
  scoredWith: string | null;
  /** Challengers scored in shadow beside production, and those that failed (a challenger never fails the month). */
  shadowScored?: string[];
  shadowFailed?: Array<{ modelId: string; error: string }>;
};

/** ETL of one month (bronze → silver → gold, one activity), then scoring if a production model exists. A failure posts an alert. */
export async function monthPipelineWorkflow(input: MonthPipelineInput): Promise<MonthPipelineResult> {
  const parsed = parseInput(monthPipelineInputSchema, input, 'monthPipelineWorkflow');
  // Without a month (the monthly schedule passes none), the month that ended before the scheduled start: the run at
  // 01:00 on the 1st processes the previous month, whose data is complete, never the month just begun.
  const month = parsed.month ?? addMonths(monthOf(scheduledStart().toISOString()), -1);
  upsertSearchAttributes([
    { key: searchAttributes.pipelinePhase, value: 'etl' },
    { key: searchAttributes.snapshotMonth, value: month },
  ]);
  try {
    return await runMonth(month, parsed.sourceDir, parsed.modelId, parsed.restage);
  } catch (error) {
    if (!isCancellation(error)) {
      await sendPipelineAlert({
        kind: 'month',
        workflowId: workflowInfo().workflowId,
        summary: `month ${month} failed: ${describeFailure(error)}`,
        action: 'a data defect (InvalidSourceData, DataQualityError) needs the named file fixed; anything else: rerun the backfill',
      });
    }
    throw error;
  }
}

async function runMonth(month: string, sourceDir: string, modelId: string | null | undefined, restage: string | undefined): Promise<MonthPipelineResult> {
  const etlSummary = await etl.runMonthEtl({ sourceDir, month, ...(restage ? { restage } : {}) });
  if (Object.values(etlSummary.bronzeRows).every((rows) => rows === 0)) {
    // Not "completed with zero rows": a month without data is a failure someone should see.
    throw ApplicationFailure.nonRetryable(`no source rows for ${month} in ${sourceDir}: its data has not arrived`, WorkflowFailure.NoSourceData);
  }

  if (etlSummary.incomplete?.length > 0 && patched('month-alerts-incomplete-sources')) {
    // Not a failure (the month's gold is built and marked incomplete in its lineage), but no model trains on it.
    await sendPipelineAlert({
      kind: 'month',
      workflowId: workflowInfo().workflowId,
      summary: `month ${month}: incomplete source data: ${etlSummary.incomplete.map(describeIncompleteSlice).join('; ')}`,
      action: 'no model trains on this month until the source file is fixed (rerun the backfill) or the gap accepted (--accept-incomplete)',
    });
  }

  // Without a model named, production and its challengers (shadow scoring); runs begun before shadow scoring read the
  // registry alone (patched: their histories replay as they ran).
  let scoringModel: string | null;
  let challengers: string[] = [];
  if (modelId !== undefined) {
    scoringModel = modelId;
  } else if (patched('shadow-challengers')) {
    ({ production: scoringModel, challengers } = await quickReads.readModelRoles());
  } else {
    scoringModel = (await quickReads.readRegistry()).production;
  }
  const scoredWith = scoringModel && etlSummary.featureRows > 0 ? scoringModel : null;
  if (scoredWith) await scoreMonthChild(month, scoredWith);
  const shadow = scoredWith ? await scoreChallengers(month, challengers) : { shadowScored: [], shadowFailed: [] };

  // The summary minus its total `rows` (the result's shape is what it was with one activity per step).
  const { rows: _bronzeTotal, ...counts } = etlSummary;
  return { ...counts, scoredWith, ...(challengers.length > 0 ? shadow : {}) };
}

/** When a schedule started this run, the time it was scheduled for (also right under a schedule backfill). */
function scheduledStart(): Date {
  const scheduled = workflowInfo().searchAttributes?.TemporalScheduledStartTime;
  const first = Array.isArray(scheduled) ? scheduled[0] : undefined;
  return first ? new Date(first as string | Date) : new Date();
}
