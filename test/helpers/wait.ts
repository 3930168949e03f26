// The one way tests wait for something outside them (a server, a workflow's state, a file, a process's output): poll
// `probe` until it gives a value (anything but undefined, null or false), and fail naming what was awaited and the last
// thing seen. A probe that throws ends the wait with its error (a process that exited will never print the line).
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs: number;
  /** Between probes (default 100 ms). */
  intervalMs?: number;
  /** What to show when the time is up, e.g. the last status seen. */
  lastSeen?: () => unknown;
}

type Found<T> = Exclude<T, undefined | null | false>;

export async function waitUntil<T>(what: string, probe: () => T | Promise<T>, options: WaitOptions): Promise<Found<T>> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as Found<T>;
    if (Date.now() > deadline) {
      const seen = options.lastSeen ? `; last seen: ${String(typeof options.lastSeen() === 'string' ? options.lastSeen() : JSON.stringify(options.lastSeen()))}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${seen}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
