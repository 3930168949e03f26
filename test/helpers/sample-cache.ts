// The real sample's datamart after the ETL of every month, and tools/bench/sample-models.ts's trainSampleModels (that
// ETL, a gbtree and a gblinear model, every month scored by the gbtree), each built once per code and fixture, then
// copied into each test's own datamart and model bank. The tests that start from them (monitoring, the monitor command,
// the API contract, the console, quality gate, explanations, serving, online skew) are about what comes after the ETL,
// not the ETL or the training themselves (test/etl/pipeline.test.ts and test/etl/gold-unchanged.test.ts build those
// from scratch); each rebuilt the same datamart before.
//
// Each cache is keyed by the content of the code the build runs (core/, lib/, tools/bench/sample-models.ts, the package
// lock), of the fixture, by the Node version and the build's settings: any change builds it again. It is written in a
// folder of its own and renamed into place when complete, so a build that died leaves nothing that looks finished. The
// copy is a real copy (a test may rewrite any file of its datamart), and the absolute paths the ETL's lineage and the
// model bank's working files record are rewritten from the build's folders to the test's, as if the test had built it
// there.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadConfig, type Config } from '../../lib/config.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { SAMPLE_MONTHS, trainSampleModels, type SampleModels } from '../../tools/bench/sample-models.js';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { FIXTURE_DIR } from './fixture.js';

const CACHE_ROOT = join(PROJECT_ROOT, '.test-tmp', 'shared');
const CODE = ['core', 'lib', 'tools/bench/sample-models.ts', 'package-lock.json'];

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => filesUnder(join(path, entry.name)));
}

/** The content of every file the build depends on, the fixture's, the Node version and the build's settings. */
function cacheKey(settings: string): string {
  const hash = createHash('sha256').update(process.version).update('\0').update(settings);
  for (const [root, paths] of [[PROJECT_ROOT, CODE.map((path) => join(PROJECT_ROOT, path))], [FIXTURE_DIR, [FIXTURE_DIR]]] as const) {
    for (const file of paths.flatMap(filesUnder)) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

interface Built<T> {
  result: T;
  datamartDir: string;
  modelBankDir: string;
}

async function build<T>(prefix: string, cacheDir: string, run: (config: Config) => Promise<T>): Promise<void> {
  const building = `${cacheDir}.building-${randomUUID().slice(0, 8)}`;
  const datamartDir = join(building, 'datamart');
  const modelBankDir = join(building, 'model_bank');
  try {
    const result = await run(loadConfig({ DATAMART_DIR: datamartDir, MODEL_BANK_DIR: modelBankDir }));
    await mkdir(modelBankDir, { recursive: true });
    await writeFile(join(building, 'built.json'), JSON.stringify({ result, datamartDir, modelBankDir } satisfies Built<T>));
    await rename(building, cacheDir);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (!existsSync(join(cacheDir, 'built.json'))) throw error; // a build of the same key finished first: use it
  }
  // Earlier keys' caches: the code or the fixture changed since.
  for (const name of await readdir(CACHE_ROOT)) {
    if (name.startsWith(prefix) && join(CACHE_ROOT, name) !== cacheDir && !name.includes('.building-')) await rm(join(CACHE_ROOT, name), { recursive: true, force: true });
  }
}

/** Copies `from` to `to`; in JSON files, the build's folders become the test's. */
async function copyRewriting(from: string, to: string, paths: Array<[string, string]>): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) await copyRewriting(source, target, paths);
    else if (entry.name.endsWith('.json')) {
      let text = await readFile(source, 'utf8');
      for (const [built, own] of paths) text = text.replaceAll(built, own);
      await writeFile(target, text);
    } else await copyFile(source, target);
  }
}

/** What `run` builds from the settings `settings` names, in config's folders (which must not exist yet). */
async function cached<T>(name: string, settings: object, config: Config, run: (config: Config) => Promise<T>): Promise<T> {
  const prefix = `${name}-`;
  const cacheDir = join(CACHE_ROOT, `${prefix}${cacheKey(JSON.stringify(settings))}`);
  await mkdir(CACHE_ROOT, { recursive: true });
  if (!existsSync(join(cacheDir, 'built.json'))) await build(prefix, cacheDir, run);
  const built = JSON.parse(await readFile(join(cacheDir, 'built.json'), 'utf8')) as Built<T>;
  const paths: Array<[string, string]> = [[built.datamartDir, config.DATAMART_DIR], [built.modelBankDir, config.MODEL_BANK_DIR]];
  await copyRewriting(join(cacheDir, 'datamart'), config.DATAMART_DIR, paths);
  await copyRewriting(join(cacheDir, 'model_bank'), config.MODEL_BANK_DIR, paths);
  return built.result;
}

/** The ETL of every month of SAMPLE_MONTHS from the real sample, at config's MAX_QUARANTINE_SHARE, in config's datamart. */
export async function sampleDatamart(config: Config): Promise<void> {
  const maxQuarantineShare = config.MAX_QUARANTINE_SHARE;
  await cached('sample-datamart', { months: SAMPLE_MONTHS, maxQuarantineShare }, config, async (building) => {
    for (const month of SAMPLE_MONTHS) await materializeMonth({ datamartDir: building.DATAMART_DIR, sourceDir: FIXTURE_DIR, month, maxQuarantineShare });
    return null;
  });
}

/** trainSampleModels(config, FIXTURE_DIR)'s datamart and model bank in config's folders. */
export async function sampleModels(config: Config): Promise<SampleModels> {
  assert.equal(config.MAX_QUARANTINE_SHARE, loadConfig({}).MAX_QUARANTINE_SHARE, 'the cached sample models are built at the default MAX_QUARANTINE_SHARE');
  return cached('sample-models', {}, config, (building) => trainSampleModels(building, FIXTURE_DIR));
}
