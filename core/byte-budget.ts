// A budget of bytes that work of one process shares: a piece of work is admitted when its bytes fit beside the work
// already running, and a piece larger than the whole budget runs alone (never refused). Fits share their training
// matrices' budget (core/models/candidate.ts), staging shares its CSVs' (core/etl/staging.ts).
export class ByteBudget {
  private inUse = 0;
  private readonly wakers = new Set<() => void>();

  constructor(readonly limitBytes: number) {}

  /**
   * Waits until `bytes` more fit the budget (calling `whileWaiting` at least every `pollMs` while it waits: heartbeats),
   * then takes them; the returned function gives them back.
   */
  async admit(bytes: number, whileWaiting?: () => void, pollMs = 1_000): Promise<() => void> {
    while (this.inUse > 0 && this.inUse + bytes > this.limitBytes) {
      whileWaiting?.();
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, pollMs);
        this.wakers.add(wake);
      });
    }
    this.inUse += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= bytes;
      for (const wake of [...this.wakers]) wake();
    };
  }

  /** Runs `work` once admitted, and gives the bytes back when it settles. */
  async run<T>(bytes: number, work: () => Promise<T>, whileWaiting?: () => void): Promise<T> {
    const release = await this.admit(bytes, whileWaiting);
    try {
      return await work();
    } finally {
      release();
    }
  }
}
