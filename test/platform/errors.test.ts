// The error family of lib/errors.ts and the activity adapter: every permanent error leaves an activity as a
// non-retryable ApplicationFailure of its type, and the workflows' retry policies name exactly those types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { adaptActivity, toTemporalFailure } from '../../activities/failures.js';
import {
  InvalidSourceData,
  DiskFull,
  MissingLineage,
  MonitoringInputError,
  NoPreviousModel,
  NON_RETRYABLE_TYPES,
  PIPELINE_ERRORS,
  PipelineError,
  XGBoostError,
} from '../../lib/errors.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rollback } from '../../core/models/registry.js';
import { requireLineage } from '../../core/datamart/lineage.js';
import { XGBoostError as BindingXGBoostError } from '../../core/xgboost/index.js';

test('every member of the family leaves as an ApplicationFailure of its own type, non-retryable unless its class says so', () => {
  assert.deepEqual(NON_RETRYABLE_TYPES, [
    'InvalidSourceData',
    'DataQualityError',
    'IncompleteSourceData',
    'InvalidModelArtifact',
    'InvalidInput',
    'NoPreviousModel',
    'PromotionRefused',
    'MonitoringInputError',
    'XGBoostError',
    'DiskFull',
  ]);
  for (const Kind of PIPELINE_ERRORS) {
    const error =
      Kind === InvalidSourceData
        ? new InvalidSourceData({ file: 'a.csv', column: 'Age', line: 3 }, 'not a number')
        : Kind === MonitoringInputError
          ? new MonitoringInputError('p.parquet', 'bad row')
          : Kind === DiskFull
            ? new DiskFull('/dm/silver/x/data.parquet', 2048, 0, 'at least')
            : new (Kind as new (message: string) => PipelineError)('broken');
    assert.ok(error instanceof PipelineError);
    assert.equal(error.name, Kind.type);
    const failure = toTemporalFailure(error);
    assert.ok(failure instanceof ApplicationFailure, Kind.type);
    assert.equal(failure.type, Kind.type);
    assert.equal(failure.nonRetryable, !Kind.retryable, Kind.type);
    assert.equal(failure.message, error.message);
  }
  assert.deepEqual(PIPELINE_ERRORS.filter((Kind) => Kind.retryable).map((Kind) => Kind.type), ['MissingLineage']);
  assert.equal(new InvalidSourceData({ file: 'a.csv', column: 'Age', line: 3 }, 'not a number').message, "a.csv, column 'Age', line 3: not a number");
  assert.equal(new XGBoostError('bad param', 'XGBoosterSetParam').message, 'XGBoosterSetParam: bad param');
  assert.equal(
    new DiskFull('/dm/silver/x/data.parquet', 2048, 100, 'at least').message,
    'disk full writing /dm/silver/x/data.parquet: it needs at least 2.0 KiB (2048 bytes), 100 bytes free on its file system; free space there, then run the same command again',
  );
});

test('an input partition without lineage is a typed, retryable MissingLineage naming the partition', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lineage-'));
  try {
    const partition = join(dir, 'silver', 'attributes', 'snapshot_date=2024-01-01', 'data.parquet');
    await assert.rejects(requireLineage(partition, 'silver attributes 2024-01'), (error: unknown) => {
      assert.ok(error instanceof MissingLineage);
      assert.match(error.message, /silver attributes 2024-01 \(.*snapshot_date=2024-01-01.*\) has no readable _lineage\.json/);
      const failure = toTemporalFailure(error);
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, 'MissingLineage');
      assert.equal(failure.nonRetryable, false, 'an overlapping run may be republishing it: retried');
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the classes are the same wherever they are imported from; a NoPreviousModel from the registry is permanent', async () => {
  assert.equal(BindingXGBoostError, XGBoostError);
  const modelBankDir = await mkdtemp(join(tmpdir(), 'errors-'));
  try {
    const rolledBack = adaptActivity(() => rollback(modelBankDir, 'test'));
    await assert.rejects(rolledBack(), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'NoPreviousModel');
      assert.equal(error.nonRetryable, true);
      assert.ok(error.cause instanceof NoPreviousModel);
      return true;
    });
  } finally {
    await rm(modelBankDir, { recursive: true, force: true });
  }
});

test('a malformed input is a non-retryable InvalidInput naming the field; any other error stays retryable as it is', () => {
  const parsed = z.object({ month: z.string().regex(/^\d{4}-\d{2}$/) }).safeParse({ month: '2024/01' });
  assert.equal(parsed.success, false);
  const failure = toTemporalFailure(parsed.error);
  assert.ok(failure instanceof ApplicationFailure);
  assert.equal(failure.type, 'InvalidInput');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /^invalid input: month: /);
  const transient = new Error('ECONNRESET');
  assert.equal(toTemporalFailure(transient), transient);
});
