// The month's ETL activity: a thin adapter over core/datamart/materialize.ts materializeMonth (every table of the
// graph for one month, bronze → silver → gold, on one DuckDB connection). Input validated, domain errors leave as non-retryable failures (adaptActivity), a heartbeat
// every second carrying the step that last finished, and the activity's cancellation handed to every step
// (heartbeat.ts). Only a summary of counts goes back through Temporal.
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import { log } from '@temporalio/activity';
import type { Config } from '../lib/config.js';
import { materializeMonth, MONTH_ETL_STEPS, summarizeMonthEtl, type MonthEtlProgress } from '../core/datamart/materialize.js';
import type { MonthEtlSummary } from '../lib/month-etl.js';
import { SOURCES } from '../lib/layout.js';
import { recordMonthBuilt, recordRows } from './metrics.js';
import { adaptActivity } from './failures.js';
import { heartbeat, heartbeating } from './heartbeat.js';

const monthEtlInput = z.object({ sourceDir: z.string().min(1), month: monthSchema, restage: z.string().min(1).optional() });

export function createEtlActivities(config: Config) {
  const datamartDir = config.DATAMART_DIR;
  const maxQuarantineShare = config.MAX_QUARANTINE_SHARE;
  const minSourceVolumeShare = config.MIN_SOURCE_VOLUME_SHARE;
  return {
    runMonthEtl: adaptActivity(async (input: z.input<typeof monthEtlInput>): Promise<MonthEtlSummary> => {
      const { sourceDir, month, restage } = monthEtlInput.parse(input);
      // The details `heartbeating` repeats each second: updated in place, so they always name the last step done.
      const started = performance.now();
      const progress: MonthEtlProgress = { month, step: 'starting', done: 0, total: MONTH_ETL_STEPS };
      const result = await heartbeating(progress, (signal) =>
        materializeMonth({
          datamartDir,
          sourceDir,
          month,
          maxQuarantineShare,
          minSourceVolumeShare,
          signal,
          restage,
          onStep: (step) => heartbeat(Object.assign(progress, step)),
        }),
      );
      const summary = summarizeMonthEtl(month, result);
      // Data findings are logged (and returned in the month's result), never a failure on their own.
      for (const finding of summary.findings ?? []) log.warn(`data finding: ${finding}`);
      for (const nulled of summary.nulls ?? []) log.info(nulled);
      for (const source of SOURCES) {
        recordRows('bronze', summary.bronzeRows[source], source);
        recordRows('silver', summary.silverRows[source], source);
        recordRows('quarantine', summary.quarantinedRows[source], source);
      }
      recordRows('feature_store', summary.featureRows);
      recordRows('label_store', summary.labelRows);
      if (!result.noSourceRows) recordMonthBuilt((performance.now() - started) / 1000);
      return summary;
    }),
  };
}
