// The one heartbeat helper of every activity: the SDK's heartbeat() and cancellationSignal() when running inside an
// activity, nothing outside one (tests and scripts call the same code without Temporal). Cancellation reaches an
// activity only through a heartbeat answer, so long work heartbeats every second (the worker flushes heartbeats at
// most a second apart, see workers/worker.ts) and stops at its next chunk once the signal fires.
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import type { AlertLogger } from '../core/monitoring/alerts.js';

/** How often `heartbeating` reports while its work runs. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/** The activity context when running inside one; undefined in plain calls (tests, scripts). */
export function activityContext(): Context | undefined {
  // The store Context.current() reads, asked directly: undefined outside an activity instead of a thrown error.
  return asyncLocalStorage.getStore();
}

/** Records a heartbeat (throttled by the worker); a no-op outside an activity. */
export function heartbeat(details?: unknown): void {
  activityContext()?.heartbeat(details);
}

/** The activity's cancellation signal (aborted when the server asked to cancel it); undefined outside an activity. */
export function cancellationSignal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

/** Throws the cancellation (a CancelledFailure) when the activity was cancelled: call it between chunks of work. */
export function throwIfCancelled(): void {
  cancellationSignal()?.throwIfAborted();
}

/**
 * Runs `work` with the cancellation signal, heartbeating `details` every second. When the activity is cancelled the
 * returned promise rejects at once with the cancellation; `work` gets the same signal so it can interrupt its query and
 * must not publish anything after it fired (writes check it before their rename).
 */
export async function heartbeating<T>(details: unknown, work: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  const context = activityContext();
  if (!context) return work(undefined);
  const signal = context.cancellationSignal;
  context.heartbeat(details);
  const timer = setInterval(() => context.heartbeat(details), HEARTBEAT_INTERVAL_MS);
  let onAbort: (() => void) | undefined;
  const cancelled = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const running = work(signal);
  running.catch(() => undefined); // after a cancellation its own failure is expected and not interesting
  try {
    return await Promise.race([running, cancelled]);
  } finally {
    clearInterval(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The activity's logger inside an activity (it carries the workflow and activity ids), the console otherwise. */
export function activityLogger(): AlertLogger {
  const context = activityContext();
  if (context) return { warn: (m, meta) => context.log.warn(m, meta), error: (m, meta) => context.log.error(m, meta) };
  return { warn: (m) => console.warn(m), error: (m) => console.error(m) };
}
