// The application months the scoring API accepts: those the datamart can explain, from its first feature-store month
// to the month after its newest (the month being scored now, whose data has not been loaded yet). An application dated
// 2099-01 or 0001-01 has no population behind it: scoring it would be a number with nothing under it. Read from the
// partition folders when the server starts and again in the background once they are older than `refreshMs`, so a
// request never waits on the file system for them; a datamart without a feature store (a model bank served on its
// own) falls back to the production model's windows.
import { readdir } from 'node:fs/promises';
import { datamart, partitionMonthOf } from '../../lib/layout.js';
import { addMonths, compareMonths, type Month } from '../../lib/months.js';

export interface MonthBounds {
  first: Month;
  /** The newest month the datamart has data for, plus one. */
  last: Month;
  /** Where the bounds come from, for the message. */
  from: string;
}

export class DatamartMonths {
  private read: { at: number; bounds: MonthBounds | null } = { at: 0, bounds: null };
  private reading: Promise<void> | null = null;

  constructor(
    private readonly datamartDir: string,
    private readonly refreshMs: number,
  ) {}

  /** Reads the feature store's months now (the server awaits it once before it listens). */
  async refresh(): Promise<void> {
    const names = await readdir(datamart.featureStore(this.datamartDir)).catch(() => [] as string[]);
    const months = names.map(partitionMonthOf).filter((month): month is Month => month !== null).sort(compareMonths);
    this.read = {
      at: Date.now(),
      bounds: months.length > 0 ? { first: months[0], last: addMonths(months[months.length - 1], 1), from: "the datamart's feature store" } : null,
    };
  }

  /** The bounds as last read (a read older than refreshMs starts another); `modelWindows` when the datamart has none. */
  current(modelWindows?: { train: { from: Month }; oot: { to: Month } }): MonthBounds | null {
    if (!this.reading && Date.now() - this.read.at > this.refreshMs) {
      this.reading = this.refresh()
        .catch(() => undefined)
        .finally(() => (this.reading = null));
    }
    if (this.read.bounds) return this.read.bounds;
    return modelWindows ? { first: modelWindows.train.from, last: addMonths(modelWindows.oot.to, 1), from: "the production model's windows" } : null;
  }
}
