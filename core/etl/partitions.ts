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
