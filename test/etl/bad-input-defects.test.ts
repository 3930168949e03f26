// Issue 34's defects that the mutation suite (npm run test:mutations) does not exercise on its own: the per-column
// range table agrees between the silver SQL and the API's check (property-based), a forced backfill restages a file,
// a full disk fails with DiskFull and leaves every partition a data+lineage pair (a real tmpfs), training sets are
// pruned, and a client without a server says to start it. Also: the docs' range table is the code's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import fc from 'fast-check';
import { queryRows, withDuckDB } from '../../core/duckdb.js';
import { defineCleaningMacros } from '../../core/etl/cleaning-sql.js';
import { rangedNumber } from '../../core/etl/silver-sql.js';
import { stageSource } from '../../core/etl/staging.js';
import { materialize } from '../../core/datamart/materialize.js';
import { pruneTrainingWork, TRAINING_WORK_RETENTION_MS, workRoot } from '../../core/models/training-set.js';
import { inRange, NUMERIC_COLUMNS, numberShaped } from '../../lib/column-ranges.js';
import { DiskFull } from '../../lib/errors.js';
import { SOURCES, type Source } from '../../lib/layout.js';
import { BAD_INPUT_DOC, renderRanges } from '../../scripts/docs/bad-input.js';
import { readFileSync } from 'node:fs';
import { removeDir, SAMPLE_DIR, tempDir } from './helpers.js';
import { MUTATION_CLASSES } from '../helpers/mutations.js';
import { API_MUTATION_CLASSES } from '../helpers/api-mutations.js';

const run = promisify(execFile);

test('the silver SQL and the API check agree on every numeric column: a value is kept iff it is number-shaped and in range (property)', async () => {
  const columns = SOURCES.flatMap((source) => Object.keys(NUMERIC_COLUMNS[source]).map((column) => ({ source, column })));
  const digits = fc.stringMatching(/^-?[0-9]{1,400}(\.[0-9]{1,20})?_{0,2}$/);
  const near = fc.oneof(fc.integer({ min: -2_000_000, max: 2_000_000 }).map(String), fc.double({ min: -1e7, max: 1e7, noNaN: true }).map((x) => x.toFixed(3)));
  const junk = fc.constantFrom('inf', 'NaN', '1e400', ' 12 ', '12_', '_', '', '0x10', '-0', '1,000');
  await withDuckDB(async (db) => {
    await defineCleaningMacros(db);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...columns), fc.oneof(digits, near, junk), async ({ source, column }, raw) => {
        const range = NUMERIC_COLUMNS[source as Source][column];
        const [{ value }] = await queryRows<{ value: number | null }>(db, `SELECT ${rangedNumber(source as Source, column, `${sqlText(raw)}`)} AS value`);
        const shaped = numberShaped(raw, range.kind);
        // etl_int reads at most 9 digits: a longer integer is outside every integer range anyway.
        const expected = shaped !== null && inRange(shaped, range) ? shaped : null;
        if (expected === null) assert.equal(value, null, `${source}.${column} ${JSON.stringify(raw)}`);
        else assert.ok(value !== null && Math.abs(Number(value) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${source}.${column} ${JSON.stringify(raw)}: ${value}`);
      }),
      { numRuns: 400 },
    );
  });
});

const sqlText = (text: string) => `'${text.replace(/'/g, "''")}'`;

test('a forced restage reads the file again: a same-size edit with every time and the inode kept is seen', async () => {
  const root = await tempDir('restage');
  try {
    const sources = join(root, 'sources');
    await mkdir(sources);
    const { copyFile, readFile } = await import('node:fs/promises');
    const file = join(sources, 'lms_loan_daily.csv');
    await copyFile(join(SAMPLE_DIR, 'lms_loan_daily.csv'), file);
    const first = await stageSource(join(root, 'dm'), sources, 'loan_daily');
    // The cache key includes ctime and inode: a same-size edit with the old mtime put back is a new key…
    const { mtime, atime } = await stat(file);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/,0\.0,(\d+\.\d+),2023-07-01/, ',9.0,$1,2023-07-01'));
    await utimes(file, atime, mtime);
    const second = await stageSource(join(root, 'dm'), sources, 'loan_daily');
    assert.notEqual(second.dir, first.dir);
    assert.notEqual(second.slices['2023-07'], first.slices['2023-07']);
    // …and a forced backfill's token restages whatever the key says, once per token.
    const forced = await stageSource(join(root, 'dm'), sources, 'loan_daily', undefined, undefined, 'run-1');
    assert.notEqual(forced.dir, second.dir);
    assert.deepEqual(forced.slices, second.slices);
    assert.equal((await stageSource(join(root, 'dm'), sources, 'loan_daily', undefined, undefined, 'run-1')).dir, forced.dir);
  } finally {
    await removeDir(root);
  }
});

test('disk full (a real 24 MiB tmpfs): DiskFull names the path and the space, every partition stays a data+lineage pair', async (t) => {
  const mount = await tempDir('tmpfs');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount]);
  } catch (error) {
    t.skip(`cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]})`);
    await removeDir(mount);
    return;
  }
  try {
    const dm = join(mount, 'datamart');
    const month = '2023-07';
    for (const source of SOURCES) await materialize(`bronze/${source}`, month, { datamartDir: dm, sourceDir: SAMPLE_DIR, maxQuarantineShare: 0.2 });
    // Fill what is left, then build silver: its first write finds the disk full.
    await writeFile(join(mount, 'filler'), Buffer.alloc(0));
    const { statfs } = await import('node:fs/promises');
    const free = async () => { const s = await statfs(mount); return Number(s.bavail) * Number(s.bsize); };
    await writeFile(join(mount, 'filler'), Buffer.alloc(Math.max(0, (await free()) - 4096)));
    await assert.rejects(materialize('silver/financials', month, { datamartDir: dm, sourceDir: SAMPLE_DIR, maxQuarantineShare: 0.2 }), (error: unknown) => {
      assert.ok(error instanceof DiskFull, `expected DiskFull, got ${String(error)}`);
      assert.match(error.message, new RegExp(`disk full writing ${dm}/silver/financials/snapshot_date=2023-07-01/`));
      assert.match(error.message, /it needs .*bytes.*free on its file system; free space there, then run the same command again/);
      assert.equal(error.type, 'DiskFull');
      assert.equal(error.retryable, false);
      return true;
    });
    const partitions: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const names = await readdir(dir);
      if (names.some((name) => name.startsWith('data.parquet') || name.startsWith('_lineage.json'))) partitions.push(dir);
      for (const name of names) if ((await stat(join(dir, name))).isDirectory()) await walk(join(dir, name));
    };
    await walk(dm);
    assert.ok(partitions.length >= 4, `bronze partitions: ${partitions.length}`);
    // Quarantine partitions carry no lineage by design (silver's lineage covers the month); every other is a pair.
    for (const dir of partitions.filter((path) => !path.includes('/quarantine/'))) {
      const names = (await readdir(dir)).sort();
      assert.deepEqual(names, ['_lineage.json', 'data.parquet'], `${dir}: ${names.join(', ')}`);
    }
  } finally {
    await run('umount', [mount]).catch(() => undefined);
    await removeDir(mount);
  }
});

test('training sets unused for longer than the retention are pruned; the one just built and recent ones stay', async () => {
  const bank = await tempDir('work-prune');
  try {
    const now = Date.now();
    const make = async (name: string, ageMs: number) => {
      const dir = join(workRoot(bank), name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'manifest.json'), '{}');
      const at = new Date(now - ageMs);
      await utimes(join(dir, 'manifest.json'), at, at);
      return dir;
    };
    const old = await make('a'.repeat(64), TRAINING_WORK_RETENTION_MS + 60_000);
    const recent = await make('b'.repeat(64), 60_000);
    const kept = await make('c'.repeat(64), TRAINING_WORK_RETENTION_MS * 2);
    assert.deepEqual(await pruneTrainingWork(bank, kept, TRAINING_WORK_RETENTION_MS, now), [old]);
    assert.ok(!existsSync(old) && existsSync(recent) && existsSync(kept));
  } finally {
    await rm(bank, { recursive: true, force: true });
  }
});

test('a client command with no server answering says to start it with npm run server', async () => {
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/status.ts'], {
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
  }).then(() => null, (error: { code: number; stderr: string }) => error);
  assert.ok(result, 'the command fails');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /start it with `npm run server`/);
  assert.doesNotMatch(result.stderr, /run the same command again; it redoes only/);
});

test('docs/bad-input.md holds the range table of lib/column-ranges.ts and an outcome for every mutation class', () => {
  const doc = readFileSync(BAD_INPUT_DOC, 'utf8');
  assert.ok(doc.includes(renderRanges()), 'docs/bad-input.md is stale: run npm run docs:bad-input');
  const names = [...MUTATION_CLASSES.map((m) => m.name), ...API_MUTATION_CLASSES.map((m) => `API: ${m.name}`)];
  for (const name of names) assert.match(doc, new RegExp(`\\| ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\| \\*\\*`), `no outcome for "${name}": run npm run test:mutations`);
  assert.doesNotMatch(doc, /\*\*SILENT\*\*/);
});
