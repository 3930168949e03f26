import { ApplicationFailure, isCancellation, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { addMonths, monthOf } from '../lib/months.js';
import { SOURCES } from '../lib/layout.js';
import { searchAttributes } from '../lib/temporal.js';
import { monthPipelineInputSchema, parseInput, type MonthPipelineInput } from '../lib/workflow-inputs.js';
import { etl, modelBank, sendPipelineAlert } from './activity-proxies.js';
import { describeFailure } from './failure-text.js';
import { scoreMonthChild } from './children.js';
import { settleAll } from './settle-all.js';

export interface MonthPipelineResult {
  month: string;
  bronzeRows: Record<string, number>;
  silverRows: Record<string, number>;
  quarantinedRows: Record<string, number>;
  featureRows: number;
  labelRows: number;
  defaults: number;
  scoredWith: string | null;
}

/** ETL of one month (bronze → silver → gold), then scoring if a production model exists. A failure posts an alert. */
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
    return await runMonth(month, parsed.sourceDir, parsed.modelId);
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

async function runMonth(month: string, sourceDir: string, modelId: string | null | undefined): Promise<MonthPipelineResult> {
  const bronze = await settleAll(SOURCES.map((source) => etl.ingestBronze({ sourceDir, source, month })));
  if (bronze.every((b) => b.rows === 0)) {
    // Not "completed with zero rows": a month without data is a failure someone should see.
    throw ApplicationFailure.nonRetryable(`no source rows for ${month} in ${sourceDir}: its data has not arrived`, 'NoSourceData');
  }
  const silver = await settleAll(SOURCES.map((source) => etl.buildSilver({ source, month })));
  const [features, labels] = await settleAll([
    etl.buildFeatureStore({ sourceDir, month }),
    etl.buildLabelStore({ month }),
  ]);

  const scoringModel = modelId === undefined ? (await modelBank.readRegistry()).production : modelId;
  if (scoringModel && features.rows > 0) {
    await scoreMonthChild(month, scoringModel);
  }

  return {
    month,
    bronzeRows: Object.fromEntries(bronze.map((b) => [b.source, b.rows])),
    silverRows: Object.fromEntries(silver.map((s) => [s.source, s.rows])),
    quarantinedRows: Object.fromEntries(silver.map((s) => [s.source, s.quarantined])),
    featureRows: features.rows,
    labelRows: labels.rows,
    defaults: labels.defaults,
    scoredWith: scoringModel && features.rows > 0 ? scoringModel : null,
  };
}

/** When a schedule started this run, the time it was scheduled for (also right under a schedule backfill). */
function scheduledStart(): Date {
  const scheduled = workflowInfo().searchAttributes?.TemporalScheduledStartTime;
  const first = Array.isArray(scheduled) ? scheduled[0] : undefined;
  return first ? new Date(first as string | Date) : new Date();
}
