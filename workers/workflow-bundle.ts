// The workflow bundle built once and kept on disk, keyed by a hash of everything it can contain (the sources under
// workflows/, lib/ and core/, and the installed Temporal SDK version): a worker whose code did not change starts by
// reading one file instead of running webpack for seconds. Written atomically, so workers starting together at worst
// build it twice.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { bundleWorkflowCode, type Logger } from '@temporalio/worker';
import { PROJECT_ROOT } from '../scripts/lib/dev-server.js';

export const WORKFLOW_BUNDLE_CACHE_DIR = join(PROJECT_ROOT, '.cache', 'workflow-bundle');
const HASHED_DIRECTORIES = ['workflows', 'lib', 'core'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(ts|js|json)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** sha256 over the relative path and bytes of every source a bundle may include, and the SDK version. */
export async function workflowSourcesHash(): Promise<string> {
  const hash = createHash('sha256');
  const sdk = JSON.parse(await readFile(join(PROJECT_ROOT, 'node_modules', '@temporalio', 'workflow', 'package.json'), 'utf8')) as { version: string };
  hash.update(`sdk ${sdk.version}\0`);
  for (const dir of HASHED_DIRECTORIES) {
    for (const file of await sourceFiles(join(PROJECT_ROOT, dir))) {
      hash.update(relative(PROJECT_ROOT, file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 24);
}

/** The code of the bundle for `workflowsPath`, from the cache or freshly built (and then cached). */
export async function cachedWorkflowBundle(workflowsPath: string, logger?: Logger): Promise<{ code: string; cached: boolean }> {
  const entry = createHash('sha256').update(relative(PROJECT_ROOT, workflowsPath)).digest('hex').slice(0, 8);
  const file = join(WORKFLOW_BUNDLE_CACHE_DIR, `${await workflowSourcesHash()}-${entry}.js`);
  try {
    return { code: await readFile(file, 'utf8'), cached: true };
  } catch {
    // not built yet for these sources
  }
  const { code } = await bundleWorkflowCode({ workflowsPath, ...(logger ? { logger } : {}) });
  await mkdir(WORKFLOW_BUNDLE_CACHE_DIR, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, code);
  await rename(temporary, file);
  return { code, cached: false };
}
