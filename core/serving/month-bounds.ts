// The application months the scoring API accepts: those the datamart can explain, from its first feature-store month
// to the month after its newest (the month being scored now, whose data has not been loaded yet). An application dated
// 2099-01 or 0001-01 has no population behind it: scoring it would be a number with nothing under it. Read from the
// partition folders, again at most every `refreshMs`; a datamart without a feature store (a model bank served on its
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
  private cached: { at: number; bounds: MonthBounds | null } | null = null;

  constructor(
    private readonly datamartDir: string,
    private readonly refreshMs: number,
  ) {}

  /** The bounds now; `modelWindows` is used when the datamart has no feature-store month. */
  async bounds(modelWindows?: { train: { from: Month }; oot: { to: Month } }): Promise<MonthBounds | null> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.refreshMs) {
      const names = await readdir(datamart.featureStore(this.datamartDir)).catch(() => [] as string[]);
      const months = names.map(partitionMonthOf).filter((month): month is Month => month !== null).sort(compareMonths);
      this.cached = {
        at: now,
        bounds: months.length > 0 ? { first: months[0], last: addMonths(months[months.length - 1], 1), from: 'the datamart\'s feature store' } : null,
      };
    }
    if (this.cached.bounds) return this.cached.bounds;
    return modelWindows ? { first: modelWindows.train.from, last: addMonths(modelWindows.oot.to, 1), from: 'the production model\'s windows' } : null;
  }
}
