// A query over a month's rows that fails the same way on every try (a value DuckDB cannot convert or that overflows a
// type) is a defect of the source, not a transient failure: it becomes InvalidSourceData naming the source file, the
// column and the first line that makes the query fail, so the activity is not retried and the operator knows what to
// fix. Anything else (I/O, memory, interruption) is left as it is.
import { InvalidSourceData } from '../../lib/errors.js';
import type { Source } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { readLineage } from '../datamart/lineage.js';
import { bronzeFile } from './bronze.js';
import { readManifest } from './staging.js';

const DETERMINISTIC = /^(Conversion Error|Out of Range Error|Invalid Input Error)\b/m;

export function isDeterministicSqlError(error: unknown): error is Error {
  return error instanceof Error && DETERMINISTIC.test(error.message);
}

/** The CSV a month's bronze partition of `source` was staged from (its lineage's staging manifest), else the partition. */
export async function sourceFileOf(datamartDir: string, source: Source, month: Month): Promise<string> {
  const bronze = bronzeFile(datamartDir, source, month);
  const stagedFrom = (await readLineage(bronze))?.stagedFrom;
  const manifest = stagedFrom ? await readManifest(stagedFrom).catch(() => null) : null;
  return manifest?.file ?? bronze;
}

/**
 * InvalidSourceData for a deterministic query failure over the rows of `source` in `month`; `firstLine` finds the first
 * source line whose row alone makes the query fail (undefined when none does on its own).
 */
export async function sourceDataError(options: {
  error: Error;
  datamartDir: string;
  source: Source;
  month: Month;
  column: string;
  firstLine: () => Promise<number | undefined>;
}): Promise<InvalidSourceData> {
  const { error, datamartDir, source, month, column, firstLine } = options;
  const file = await sourceFileOf(datamartDir, source, month);
  const line = await firstLine().catch(() => undefined);
  const reason = error.message.split('\n')[0];
  return new InvalidSourceData({ file, column, line }, `${month}: a value the pipeline cannot compute with (${reason}); fix the value, it fails the same way on every retry`);
}
