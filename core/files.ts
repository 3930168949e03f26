// Small questions about the file system that several core modules ask.
import { access } from 'node:fs/promises';

/** Whether `path` exists (file or directory) and is reachable. */
export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
