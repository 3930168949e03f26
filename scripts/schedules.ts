// `npm run schedules -- create|describe|delete|trigger|backfill|pause|unpause`: the three schedules of SPEC §5.
//   credit-monthly-pipeline  01:00 on the 1st: monthPipelineWorkflow for the month that just ended. Overlap
//                            BUFFER_ALL: every month must be processed, in order, even if the previous one still runs.
//   credit-weekly-monitoring Sunday 06:00: monitoringWorkflow. Overlap SKIP: a run still going makes another redundant.
//   credit-monthly-retrain   03:00 on the 2nd (after the monthly pipeline): retrainPolicyWorkflow, which trains when
//                            RETRAIN_MIN_NEW_LABELLED_MONTHS labelled months follow the production window. Overlap SKIP.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type CalendarSpecDescription,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { scheduleIds, searchAttributes } from '../lib/temporal.js';
import { formatTable } from './format.js';
import { monitoringWorkflow, monthPipelineWorkflow, retrainPolicyWorkflow } from '../workflows/index.js';
import { parseCommandLine } from './cli.js';
import { openClient, printJson, runCommand } from './client.js';

const ACTIONS = ['create', 'describe', 'delete', 'trigger', 'backfill', 'pause', 'unpause'] as const;
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

/** Creates the schedule, or updates its spec, action and policies; `paused` pauses it (either way) with the note. */
async function createOrUpdate(client: Client, definition: ScheduleOptions, paused?: { note: string }): Promise<string> {
  try {
    await client.schedule.create(paused ? { ...definition, state: { paused: true, note: paused.note } } : definition);
    return paused ? 'created, paused' : 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    const handle = client.schedule.getHandle(definition.scheduleId);
    await handle.update((previous) => ({
      ...previous,
      spec: definition.spec,
      action: definition.action,
      policies: { ...previous.policies, ...definition.policies },
    }));
    if (paused) await handle.pause(paused.note);
    return paused ? 'updated, paused' : 'updated';
  }
}

/** Creates or updates every schedule of scheduleDefinitions (the demo creates them paused). */
export async function createSchedules(
  client: Client,
  config: Config,
  sourceDir: string,
  paused?: { note: string },
): Promise<Array<{ scheduleId: string; outcome: string }>> {
  const outcomes = [];
  for (const definition of scheduleDefinitions(config, sourceDir)) {
    outcomes.push({ scheduleId: definition.scheduleId, outcome: await createOrUpdate(client, definition, paused) });
  }
  return outcomes;
}

type Ranges = Array<{ start: number | string; end?: number | string; step?: number }>;
/** A range list as cron writes it: '*' for every value, else '1', '1-5' or '0-30/10', comma-separated. */
function rangesText(ranges: Ranges | undefined, every: string): string {
  if (!ranges || ranges.length === 0) return '*';
  const text = ranges
    .map(({ start, end, step }) => `${start}${end !== undefined && end !== start ? `-${end}` : ''}${step && step > 1 ? `/${step}` : ''}`)
    .join(',');
  return text === every ? '*' : text;
}

/** A calendar spec as a cron line (minute hour day-of-month month day-of-week), the way it was written. */
function calendarText(calendar: CalendarSpecDescription): string {
  const field = (name: keyof CalendarSpecDescription, every: string) => rangesText(calendar[name] as Ranges | undefined, every);
  return [
    field('minute', '0-59'),
    field('hour', '0-23'),
    field('dayOfMonth', '1-31'),
    field('month', 'JANUARY-DECEMBER'),
    field('dayOfWeek', 'SUNDAY-SATURDAY'),
  ].join(' ');
}

/** What `temporal schedule describe` would say, in a few lines: what it runs, when, its state, next and recent runs. */
async function describeSchedule(client: Client, scheduleId: string): Promise<string> {
  const described = await client.schedule.getHandle(scheduleId).describe();
  const action = described.action.type === 'startWorkflow' ? `${described.action.workflowType} on ${described.action.taskQueue}` : described.action.type;
  const when = (described.spec.calendars ?? []).map(calendarText).join('; ');
  const memo = (described.memo as { description?: string } | undefined)?.description;
  const state = described.state.paused ? `paused${described.state.note ? ` (${described.state.note})` : ''}` : 'active';
  const time = (date: Date) => date.toISOString().replace('.000Z', 'Z');
  const recent = described.info.recentActions.slice(-3).map((run) => `${time(run.takenAt)} ${run.action.workflow.workflowId}`);
  return [
    `${scheduleId}${memo ? `: ${memo}` : ''}`,
    formatTable(['', ''], [
      ['runs', action],
      ['when', `${when || '—'} (cron, UTC), overlap ${described.policies.overlap}`],
      ['state', state],
      ['next', described.state.paused ? '— (paused)' : described.info.nextActionTimes.slice(0, 3).map(time).join(', ') || '—'],
      ['recent', recent.join(', ') || 'none'],
      ['runs so far', String(described.info.numActionsTaken)],
    ]).split('\n').slice(2).join('\n'),
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) runCommand(async () => {
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
    paused: { type: 'boolean', description: 'create: create (or set) the schedules paused' },
    note: { type: 'string', description: 'pause/unpause/create --paused: the note recorded with the state', schema: z.string().min(1).optional() },
    json: { type: 'boolean', description: 'describe: the full description as JSON' },
  }, process.argv.slice(3));
  const { client, config, close } = await openClient();
  try {
    const chosen = options.schedule === 'all' ? Object.values(WHICH) : [WHICH[options.schedule]];
    const definitions = scheduleDefinitions(config, resolve(options.source)).filter((d) => chosen.includes(d.scheduleId));
    for (const definition of definitions) {
      const handle = client.schedule.getHandle(definition.scheduleId);
      switch (action) {
        case 'create': {
          const paused = options.paused ? { note: options.note ?? 'created paused (npm run schedules -- create --paused)' } : undefined;
          console.log(`${definition.scheduleId}: ${await createOrUpdate(client, definition, paused)}`);
          break;
        }
        case 'describe': {
          try {
            if (options.json) printJson(await handle.describe());
            else console.log(await describeSchedule(client, definition.scheduleId));
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
        case 'pause':
          await handle.pause(options.note ?? 'paused (npm run schedules -- pause)');
          console.log(`${definition.scheduleId}: paused`);
          break;
        case 'unpause':
          await handle.unpause(options.note ?? 'unpaused (npm run schedules -- unpause)');
          console.log(`${definition.scheduleId}: unpaused`);
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
