// The workflow bundle. In production it is built once at image build time (scripts/build-workflow-bundle.ts, the SDK's
// `bundleWorkflowCode`) and the worker loads it by path (`workflowBundle: { codePath }`): no webpack at run time. From
// source (npm run worker, the demo, the bench) it is built once and kept on disk, keyed by a hash of everything it can
// contain (the sources under workflows/, lib/ and core/, and the installed Temporal SDK version): a worker whose code
// did not change starts by reading one file instead of running webpack for seconds. Written atomically, so workers
// starting together at worst build it twice.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type BundleOptions, type Logger } from '@temporalio/worker';

/** The checkout (from source) or the image's /app (compiled to dist/workers/): only the source layout caches bundles. */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WORKFLOW_BUNDLE_CACHE_DIR = join(PROJECT_ROOT, '.cache', 'workflow-bundle');
const HASHED_DIRECTORIES = ['workflows', 'lib', 'core'];

/**
 * Interceptor modules compiled into every bundle: OpenTelemetry's workflow interceptors (spans for workflow runs,
 * child workflows and activity starts, handed to the worker's span processor through a sink; workers/telemetry.ts).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

/** What every bundle of `workflowsPath` is built with (the image's prebuilt one, the cached one, the tests' one). */
export function workflowBundleOptions(workflowsPath: string, logger?: Logger): BundleOptions {
  return { workflowsPath, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, ...(logger ? { logger } : {}) };
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(ts|js|json)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** sha256 over the relative path and bytes of every source a bundle may include, and the SDK versions. */
export async function workflowSourcesHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const sdkPackage of ['@temporalio/workflow', '@temporalio/interceptors-opentelemetry']) {
    const sdk = JSON.parse(await readFile(join(PROJECT_ROOT, 'node_modules', sdkPackage, 'package.json'), 'utf8')) as { version: string };
    hash.update(`${sdkPackage} ${sdk.version}\0`);
  }
  for (const dir of HASHED_DIRECTORIES) {
    for (const file of await sourceFiles(join(PROJECT_ROOT, dir))) {
      hash.update(relative(PROJECT_ROOT, file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 24);
}

/** Builds the bundle of `workflowsPath` into `outFile` (atomically): the image's build step. */
export async function writeWorkflowBundle(workflowsPath: string, outFile: string, logger?: Logger): Promise<void> {
  const { code } = await bundleWorkflowCode(workflowBundleOptions(workflowsPath, logger));
  await mkdir(dirname(outFile), { recursive: true });
  const temporary = `${outFile}.${process.pid}.tmp`;
  await writeFile(temporary, code);
  await rename(temporary, outFile);
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
  await writeWorkflowBundle(workflowsPath, file, logger);
  return { code: await readFile(file, 'utf8'), cached: false };
}
