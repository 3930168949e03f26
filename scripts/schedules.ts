// `npm run schedules -- create|describe|delete|trigger|backfill`: the three schedules of SPEC §5.
//   credit-monthly-pipeline  01:00 on the 1st: monthPipelineWorkflow for that month. Overlap BUFFER_ALL: every month
//                            must be processed, in order, even if the previous one is still running.
//   credit-weekly-monitoring Sunday 06:00: monitoringWorkflow. Overlap SKIP: a run still going makes another redundant.
//   credit-monthly-retrain   03:00 on the 2nd (after the monthly pipeline): retrainPolicyWorkflow, which trains when
//                            RETRAIN_MIN_NEW_LABELLED_MONTHS labelled months follow the production window. Overlap SKIP.
import { resolve } from 'node:path';
import { z } from 'zod';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { scheduleIds, searchAttributes } from '../lib/temporal.js';
import { monitoringWorkflow, monthPipelineWorkflow, retrainPolicyWorkflow } from '../workflows/index.js';
import { parseCommandLine } from './cli.js';
import { openClient, printJson, runCommand } from './client.js';

const ACTIONS = ['create', 'describe', 'delete', 'trigger', 'backfill'] as const;
const WHICH = { monthly: scheduleIds.monthlyPipeline, weekly: scheduleIds.weeklyMonitoring, retrain: scheduleIds.monthlyRetrain };

export function scheduleDefinitions(config: Config, sourceDir: string): ScheduleOptions[] {
  return [
    {
      scheduleId: scheduleIds.monthlyPipeline,
      spec: { cronExpressions: ['0 1 1 * *'] },
      action: {
        type: 'startWorkflow',
        workflowType: monthPipelineWorkflow,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ sourceDir }],
        typedSearchAttributes: [{ key: searchAttributes.pipelinePhase, value: 'etl' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ALL, catchupWindow: '31 days' },
      memo: { description: 'monthly ETL and scoring of the new snapshot' },
    },
    {
      scheduleId: scheduleIds.weeklyMonitoring,
      spec: { cronExpressions: ['0 6 * * 0'] },
      action: {
        type: 'startWorkflow',
        workflowType: monitoringWorkflow,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{}],
        typedSearchAttributes: [{ key: searchAttributes.pipelinePhase, value: 'monitor' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { description: 'weekly monitoring, dashboard and governance' },
    },
    {
      scheduleId: scheduleIds.monthlyRetrain,
      spec: { cronExpressions: ['0 3 2 * *'] },
      action: {
        type: 'startWorkflow',
        workflowType: retrainPolicyWorkflow,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{}],
        typedSearchAttributes: [{ key: searchAttributes.pipelinePhase, value: 'train' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { description: `monthly retrain policy: trains when ${config.RETRAIN_MIN_NEW_LABELLED_MONTHS} new labelled months follow the production window` },
    },
  ];
}

async function createOrUpdate(client: Client, definition: ScheduleOptions): Promise<string> {
  try {
    await client.schedule.create(definition);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(definition.scheduleId).update((previous) => ({
      ...previous,
      spec: definition.spec,
      action: definition.action,
      policies: { ...previous.policies, ...definition.policies },
    }));
    return 'updated';
  }
}

runCommand(async () => {
  const action = process.argv[2];
  if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
    console.error(`usage: npm run schedules -- ${ACTIONS.join('|')} [options]   (--help after the action for its options)`);
    process.exit(2);
  }
  const options = parseCommandLine(`schedules -- ${action}`, 'Manage the monthly pipeline, weekly monitoring and monthly retrain schedules.', {
    schedule: { type: 'string', description: 'monthly | weekly | retrain | all (default all)', schema: z.enum(['monthly', 'weekly', 'retrain', 'all']).default('all') },
    source: { type: 'string', description: 'create: folder of source CSVs the monthly run reads (default data/raw)', schema: z.string().default('data/raw') },
    from: { type: 'string', description: 'backfill: start time, ISO (e.g. 2024-01-01T00:00:00Z)', schema: z.iso.datetime({ offset: true }).optional() },
    to: { type: 'string', description: 'backfill: end time, ISO', schema: z.iso.datetime({ offset: true }).optional() },
  }, process.argv.slice(3));
  const { client, config, close } = await openClient();
  try {
    const chosen = options.schedule === 'all' ? Object.values(WHICH) : [WHICH[options.schedule]];
    const definitions = scheduleDefinitions(config, resolve(options.source)).filter((d) => chosen.includes(d.scheduleId));
    for (const definition of definitions) {
      const handle = client.schedule.getHandle(definition.scheduleId);
      switch (action) {
        case 'create':
          console.log(`${definition.scheduleId}: ${await createOrUpdate(client, definition)}`);
          break;
        case 'describe': {
          try {
            const described = await handle.describe();
            printJson({
              scheduleId: described.scheduleId,
              spec: described.spec,
              overlap: described.policies.overlap,
              paused: described.state.paused,
              nextActionTimes: described.info.nextActionTimes.slice(0, 3),
              recentActions: described.info.recentActions.slice(-3),
            });
          } catch (error) {
            if (!(error instanceof ScheduleNotFoundError)) throw error;
            console.log(`${definition.scheduleId}: not created (npm run schedules -- create)`);
          }
          break;
        }
        case 'delete':
          await handle.delete().catch((error) => {
            if (!(error instanceof ScheduleNotFoundError)) throw error;
          });
          console.log(`${definition.scheduleId}: deleted`);
          break;
        case 'trigger':
          await handle.trigger();
          console.log(`${definition.scheduleId}: triggered`);
          break;
        case 'backfill': {
          if (!options.from || !options.to) throw new Error('backfill needs --from and --to (ISO times)');
          await handle.backfill([{ start: new Date(options.from), end: new Date(options.to), overlap: ScheduleOverlapPolicy.BUFFER_ALL }]);
          console.log(`${definition.scheduleId}: backfill ${options.from} .. ${options.to} requested`);
          break;
        }
      }
    }
  } finally {
    await close();
  }
});
