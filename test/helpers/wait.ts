// The one way tests wait for something outside them (a server, a workflow's state, a file): poll `check` until it
// holds, and fail naming what was awaited and the last thing seen. Durable timers are not waited on this way: tests
// whose only wait is a workflow timer skip time instead.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs: number;
  /** Between checks (default 100 ms). */
  intervalMs?: number;
  /** What to show when the time is up, e.g. the last status seen. */
  lastSeen?: () => unknown;
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      const seen = options.lastSeen ? `; last seen: ${JSON.stringify(options.lastSeen())}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${seen}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
