// A partition and its _lineage.json stay a pair under cancellation (core/datamart/lineage.ts writeWithLineage): a
// write stopped before its data is replaced keeps the old pair, one whose data was published writes the new lineage
// even though its cancellation fired meanwhile, and an already cancelled write touches nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineageOf, readLineage, writeWithLineage } from '../../core/datamart/lineage.js';

const oldLineage = lineageOf('silver/clickstream/2023-01', 2, '2023-01', { 'bronze/clickstream/2023-01': 'a'.repeat(64) });
const newLineage = lineageOf('silver/clickstream/2023-01', 2, '2023-01', { 'bronze/clickstream/2023-01': 'b'.repeat(64) });

/** Runs `body` on a partition file in a fresh folder, written once with `oldLineage`; the folder goes afterwards. */
async function withPartition(body: (file: string, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lineage-write-'));
  const file = join(dir, 'data.parquet');
  try {
    await writeWithLineage(file, oldLineage, async () => writeFile(file, 'old data'));
    await body(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Publishes new data the way writeParquetAtomic does (temp file, rename). */
async function replaceData(file: string, dir: string): Promise<void> {
  writeFileSync(join(dir, 'data.parquet.tmp'), 'new data');
  await rename(join(dir, 'data.parquet.tmp'), file);
}

test('a write cancelled before its data is replaced keeps the old data with the old lineage', () =>
  withPartition(async (file) => {
    const controller = new AbortController();
    await assert.rejects(
      writeWithLineage(file, newLineage, async () => {
        controller.abort(new Error('cancelled'));
        throw controller.signal.reason; // as writeParquetAtomic does when the signal fires before its rename
      }, controller.signal),
      /cancelled/,
    );
    assert.equal(readFileSync(file, 'utf8'), 'old data');
    assert.equal((await readLineage(file))?.fingerprint, oldLineage.fingerprint);
  }));

test('a write whose data was published gets its new lineage although the cancellation fired meanwhile', () =>
  withPartition(async (file, dir) => {
    const controller = new AbortController();
    await writeWithLineage(file, newLineage, async () => {
      await replaceData(file, dir);
      controller.abort(new Error('cancelled')); // after the rename: the data is out
    }, controller.signal);
    assert.equal(readFileSync(file, 'utf8'), 'new data');
    assert.equal((await readLineage(file))?.fingerprint, newLineage.fingerprint);
  }));

test('a write failing after it replaced the data leaves the partition without lineage (stale), never the old one', () =>
  withPartition(async (file, dir) => {
    await assert.rejects(
      writeWithLineage(file, newLineage, async () => {
        await replaceData(file, dir);
        throw new Error('disk full while cleaning up');
      }),
      /disk full/,
    );
    assert.equal(await readLineage(file), null);
  }));

test('a write already cancelled touches nothing', () =>
  withPartition(async (file) => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    let wrote = false;
    await assert.rejects(writeWithLineage(file, newLineage, async () => (wrote = true), controller.signal), /cancelled/);
    assert.equal(wrote, false);
    assert.equal((await readLineage(file))?.fingerprint, oldLineage.fingerprint);
  }));
