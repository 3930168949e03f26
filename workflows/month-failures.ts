// Per-month work that keeps going when one month fails: each failure is recorded with its innermost cause, and the
// workflow fails once at the end, listing every failed month and carrying its partial result.
import { ApplicationFailure } from '@temporalio/workflow';
import type { WorkflowFailureType } from '../lib/errors.js';
import type { Month } from '../lib/months.js';
import { describeFailure } from './failure-text.js';

export interface MonthFailure {
  month: Month;
  error: string;
}

/** Runs `work`; a failure is appended to `failed` (prefixed with `what`, when given) instead of thrown. */
export async function recordingFailure<T>(
  failed: MonthFailure[],
  month: Month,
  work: () => Promise<T>,
  what = '',
): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    failed.push({ month, error: `${what ? `${what}: ` : ''}${describeFailure(error)}` });
    return undefined;
  }
}

/** Fails the workflow (non-retryable, `result` as details) when any month failed; returns otherwise. */
export function throwIfMonthsFailed(
  type: WorkflowFailureType,
  failed: readonly MonthFailure[],
  total: number,
  result: unknown,
  advice?: string,
): void {
  if (failed.length === 0) return;
  const list = failed.map((f) => `${f.month} (${f.error})`).join('; ');
  throw ApplicationFailure.create({
    type,
    message: `${failed.length} of ${total} months failed: ${list}${advice ? `. ${advice}` : ''}`,
    nonRetryable: true,
    details: [result],
  });
}
