// The check a client runs before it starts a backfill: the source folder exists and holds the four files, each with a
// header and at least one data line. Everything it can refuse is refused here, not minutes later inside a workflow.
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SOURCE_FILES, SOURCES } from '../../lib/layout.js';

/** The problems found, one sentence each naming the file; empty when the folder looks usable. */
export async function sourceFolderProblems(dir: string): Promise<string[]> {
  const folder = await stat(dir).catch(() => null);
  if (!folder) return [`source folder ${dir} does not exist`];
  if (!folder.isDirectory()) return [`source folder ${dir} is not a folder`];
  const problems: string[] = [];
  for (const source of SOURCES) {
    const path = join(dir, SOURCE_FILES[source]);
    const file = await stat(path).catch(() => null);
    if (!file) problems.push(`${path} is missing`);
    else if (file.size === 0) problems.push(`${path} is empty`);
    else if (!(await hasDataLine(path))) problems.push(`${path} has a header but no data rows`);
  }
  return problems;
}

/** True when the file has a non-blank line after its first (read from the first 64 KiB: headers are short). */
async function hasDataLine(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const lines = buffer.subarray(0, bytesRead).toString('utf8').split(/\r?\n/);
    return lines.length > 1 && lines.slice(1).some((line) => line.trim() !== '');
  } finally {
    await handle.close();
  }
}
