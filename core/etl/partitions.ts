import { access } from 'node:fs/promises';
import type { Month } from '../../lib/months.js';

/** The path of a partition an ETL step depends on; a clear error when the step before it has not run. */
export async function requirePartition(path: string, what: string, month: Month): Promise<string> {
  try {
    await access(path);
    return path;
  } catch {
    throw new Error(`${what} partition of ${month} is missing (${path}): build it first`);
  }
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * How a transform publishes its partition's data: it calls `publish` with the atomic write of the data file, and the
 * caller (core/datamart/materialize.ts) wraps it with the partition's lineage. The transforms here know their SQL and
 * files, not lineage.
 */
export type Publish = <T>(writeData: () => Promise<T>) => Promise<T>;
