// Where the time of a run went, read from workflow histories: time inside activities (started → closed of the
// attempt that closed), time activities waited (scheduled → started: queueing behind busy slots plus retry backoff),
// and workflow task time (queue wait and processing by the worker). Pure over history events.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Timestamp = { seconds?: { toNumber(): number } | number | string | null; nanos?: number | null } | null | undefined;

export function eventMs(time: Timestamp): number {
  if (!time) return NaN;
  const seconds = time.seconds;
  const whole = typeof seconds === 'object' && seconds !== null ? seconds.toNumber() : Number(seconds ?? 0);
  return whole * 1000 + (time.nanos ?? 0) / 1e6;
}

const id = (value: unknown) => String(value ?? '');

export interface ActivityTiming {
  count: number;
  /** Attempts beyond the first, summed. */
  retries: number;
  /** Sum of started → closed (ms): the work itself, as the server saw it. */
  runMs: number;
  /** Sum of scheduled → started (ms): waiting for a free slot, and backoff between attempts. */
  waitMs: number;
  maxRunMs: number;
  /** Sum of `rows` of the results that carry one (runMonthEtl: bronze rows; scoreMonth: rows scored). */
  rows: number;
  /** Sum of every numeric top-level field of the results (runMonthEtl's featureRows, labelRows, …). */
  totals: Record<string, number>;
  /** Epoch ms of the first attempt's start and of the last close: the span the activity covered in the run. */
  firstStartedAt: number;
  lastClosedAt: number;
  /** Run time (ms) and `rows` of every closed attempt: what a fit of time against rows (fixedCostFit) reads. */
  samples: Array<{ runMs: number; rows: number }>;
}

/** An activity type not seen yet: nothing counted, and a span that any start or close replaces. */
export function emptyActivityTiming(): ActivityTiming {
  return { count: 0, retries: 0, runMs: 0, waitMs: 0, maxRunMs: 0, rows: 0, totals: {}, firstStartedAt: Infinity, lastClosedAt: -Infinity, samples: [] };
}

export interface HistoryTiming {
  workflows: number;
  events: number;
  activities: Record<string, ActivityTiming>;
  activityRunMs: number;
  activityWaitMs: number;
  workflowTasks: number;
  /** Sum of workflow task scheduled → started (ms). */
  workflowTaskWaitMs: number;
  /** Sum of workflow task started → completed (ms): replay and workflow code in the worker. */
  workflowTaskRunMs: number;
  /** [started, closed] epoch ms of every activity attempt that closed: when at least one activity was running. */
  activityIntervals: Array<[number, number]>;
}

export function emptyTiming(): HistoryTiming {
  return { workflows: 0, events: 0, activities: {}, activityRunMs: 0, activityWaitMs: 0, workflowTasks: 0, workflowTaskWaitMs: 0, workflowTaskRunMs: 0, activityIntervals: [] };
}

/** Adds one workflow's history to `into` (mutates and returns it). */
export function addHistory(into: HistoryTiming, events: HistoryEvent[]): HistoryTiming {
  const time = new Map<string, number>();
  const activityType = new Map<string, string>();
  const activityStart = new Map<string, { at: number; attempt: number }>();
  into.workflows++;
  into.events += events.length;
  for (const event of events) {
    const at = eventMs(event.eventTime as Timestamp);
    time.set(id(event.eventId), at);
    if (event.activityTaskScheduledEventAttributes) {
      activityType.set(id(event.eventId), event.activityTaskScheduledEventAttributes.activityType?.name ?? 'unknown');
    } else if (event.activityTaskStartedEventAttributes) {
      const started = event.activityTaskStartedEventAttributes;
      activityStart.set(id(started.scheduledEventId), { at, attempt: started.attempt ?? 1 });
    } else {
      const closed =
        event.activityTaskCompletedEventAttributes ??
        event.activityTaskFailedEventAttributes ??
        event.activityTaskTimedOutEventAttributes ??
        event.activityTaskCanceledEventAttributes;
      if (closed && 'scheduledEventId' in closed) {
        const scheduledId = id(closed.scheduledEventId);
        const scheduledAt = time.get(scheduledId) ?? at;
        const start = activityStart.get(scheduledId);
        const name = activityType.get(scheduledId) ?? 'unknown';
        const entry = (into.activities[name] ??= emptyActivityTiming());
        if (start) entry.firstStartedAt = Math.min(entry.firstStartedAt, start.at);
        entry.lastClosedAt = Math.max(entry.lastClosedAt, at);
        const runMs = start ? at - start.at : 0;
        const waitMs = (start ? start.at : at) - scheduledAt;
        entry.count++;
        entry.retries += Math.max(0, (start?.attempt ?? 1) - 1);
        entry.runMs += runMs;
        entry.waitMs += waitMs;
        entry.maxRunMs = Math.max(entry.maxRunMs, runMs);
        const numbers = resultNumbers(event.activityTaskCompletedEventAttributes?.result?.payloads?.[0]);
        entry.rows += numbers.rows ?? 0;
        entry.samples.push({ runMs, rows: numbers.rows ?? 0 });
        for (const [field, value] of Object.entries(numbers)) entry.totals[field] = (entry.totals[field] ?? 0) + value;
        into.activityRunMs += runMs;
        if (start) into.activityIntervals.push([start.at, at]);
        into.activityWaitMs += waitMs;
      }
    }
    if (event.workflowTaskStartedEventAttributes) {
      const scheduledAt = time.get(id(event.workflowTaskStartedEventAttributes.scheduledEventId));
      if (scheduledAt !== undefined) into.workflowTaskWaitMs += at - scheduledAt;
    }
    if (event.workflowTaskCompletedEventAttributes) {
      const startedAt = time.get(id(event.workflowTaskCompletedEventAttributes.startedEventId));
      if (startedAt !== undefined) into.workflowTaskRunMs += at - startedAt;
      into.workflowTasks++;
    }
  }
  return into;
}

/** The numeric top-level fields of an activity result payload (none when it has no object result). */
function resultNumbers(payload: temporal.api.common.v1.IPayload | undefined): Record<string, number> {
  if (!payload) return {};
  try {
    const value = defaultPayloadConverter.fromPayload<unknown>(payload);
    if (!value || typeof value !== 'object') return {};
    return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1])));
  } catch {
    return {};
  }
}

/** Milliseconds of [from, to] during which no interval is running: time spent only on orchestration. */
export function idleMs(intervals: ReadonlyArray<[number, number]>, from: number, to: number): number {
  const sorted = intervals.map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as [number, number]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let idle = 0;
  let cursor = from;
  for (const [start, end] of sorted) {
    if (start > cursor) idle += start - cursor;
    cursor = Math.max(cursor, end);
  }
  return idle + Math.max(0, to - cursor);
}

/**
 * Least-squares line of an activity's run time against its rows over the run's attempts: the intercept is what each
 * call costs whatever its rows (its fixed cost), the slope what a million rows add. Null with fewer than 3 attempts,
 * rows all alike (no line to fit), or a negative intercept or slope: months of nearly the same size on a busy machine,
 * where the run's noise is larger than what the rows add, and no split into fixed and per-row cost is in the data.
 */
export function fixedCostFit(samples: ReadonlyArray<{ runMs: number; rows: number }>): { fixedSeconds: number; secondsPerMillionRows: number; calls: number } | null {
  const n = samples.length;
  if (n < 3) return null;
  const meanRows = samples.reduce((sum, s) => sum + s.rows, 0) / n;
  const meanMs = samples.reduce((sum, s) => sum + s.runMs, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const s of samples) {
    covariance += (s.rows - meanRows) * (s.runMs - meanMs);
    variance += (s.rows - meanRows) ** 2;
  }
  if (variance === 0) return null;
  const msPerRow = covariance / variance;
  const fixedMs = meanMs - msPerRow * meanRows;
  if (msPerRow < 0 || fixedMs < 0) return null;
  return { fixedSeconds: fixedMs / 1000, secondsPerMillionRows: msPerRow * 1000, calls: n };
}
