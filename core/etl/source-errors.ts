// A query over a month's rows that fails the same way on every try (a value DuckDB cannot convert or that overflows a
// type) is a defect of the source, not a transient failure: it becomes InvalidSourceData naming the source file, the
// column and the first line that makes the query fail, so the activity is not retried and the operator knows what to
// fix. Anything else (I/O, memory, interruption) is left as it is.
import { InvalidSourceData } from '../../lib/errors.js';
import type { Month } from '../../lib/months.js';

const DETERMINISTIC = /^(Conversion Error|Out of Range Error|Invalid Input Error)\b/m;

export function isDeterministicSqlError(error: unknown): error is Error {
  return error instanceof Error && DETERMINISTIC.test(error.message);
}

/**
 * InvalidSourceData for a deterministic query failure over the rows of `file` in `month`; `firstLine` finds the first
 * source line whose row alone makes the query fail (undefined when none does on its own).
 */
export async function sourceDataError(options: {
  error: Error;
  /** The source file the failing rows come from. */
  file: string;
  month: Month;
  column: string;
  firstLine: () => Promise<number | undefined>;
}): Promise<InvalidSourceData> {
  const { error, file, month, column, firstLine } = options;
  const line = await firstLine().catch(() => undefined);
  const reason = error.message.split('\n')[0];
  return new InvalidSourceData({ file, column, line }, `${month}: a value the pipeline cannot compute with (${reason}); fix the value, it fails the same way on every retry`);
}
