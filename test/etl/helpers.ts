// Shared by the ETL tests: the real sample, temporary directories, and content hashes of a datamart tree.
import { FIXTURE_DIR } from '../helpers/fixture.js';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { MonthEtlResult, MonthEtlSessionResult } from '../../core/datamart/materialize.js';

export const SAMPLE_DIR = FIXTURE_DIR;
const TMP_ROOT = new URL('../../.test-tmp/etl/', import.meta.url).pathname;

export async function tempDir(prefix: string): Promise<string> {
  await mkdir(TMP_ROOT, { recursive: true });
  return mkdtemp(join(TMP_ROOT, `${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A writable copy of the real sample (the fixture itself is read-only). */
export async function copySample(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  for (const name of await readdir(SAMPLE_DIR)) {
    if (name.endsWith('.csv')) await cp(join(SAMPLE_DIR, name), join(dir, name));
  }
  return dir;
}

/** relative path → sha256 of every file under `root`. */
export async function hashTree(root: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else hashes.set(relative(root, path), createHash('sha256').update(await readFile(path)).digest('hex'));
    }
  };
  await walk(root);
  return hashes;
}

/** Files under `root` (relative paths), sorted. */
export async function listFiles(root: string): Promise<string[]> {
  return [...(await hashTree(root)).keys()].sort();
}

/** A month's ETL result that must have had source rows (the sample's months do). */
export function withSourceRows(result: MonthEtlSessionResult): MonthEtlResult {
  if (result.noSourceRows) throw new Error(`no source rows in the month (${result.bronze.map((b) => b.path).join(', ')})`);
  return result;
}
