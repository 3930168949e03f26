// The planner on the real sample: after a one-month source edit, `npm run backfill -- --plan` names exactly the months
// whose gold reads that slice, with their typed causes. The expected months come from the contract, not from the
// code under test: the feature store of M reads the clickstream of M-3..M (SPEC §2), the label store only the ledger
// of M. Then the other causes: an input rebuilt since (upstream changed), a partition gone (missing), a partition
// written by another transform version (code version changed).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { materializeMonth } from '../../core/datamart/materialize.js';
import { planMonths } from '../../core/datamart/plan.js';
import { lineageFile, lineageOf, readLineage } from '../../core/datamart/lineage.js';
import { closeSharedDuckDB } from '../../core/duckdb.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import type { StaleCause } from '../../lib/stale-causes.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { copySources, editSourceLines } from '../helpers/sources.js';

const exec = promisify(execFile);
const FROM = '2023-01';
const TO = '2023-10';
const EDITED = '2023-05';
let work: string;
let sourceDir: string;
let datamartDir: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'plan-'));
  sourceDir = copySources(work);
  datamartDir = join(work, 'datamart');
  for (const month of monthRange(FROM, TO)) await materializeMonth({ datamartDir, sourceDir, month, maxQuarantineShare: 0.2 });
});
after(async () => {
  await closeSharedDuckDB();
  rmSync(work, { recursive: true, force: true });
});

/** `npm run backfill -- --plan` as a user types it, against the test's datamart; its exit code and standard output. */
async function planCommand(): Promise<{ code: number; stdout: string }> {
  const args = ['run', '-s', 'backfill', '--', '--plan', '--from', FROM, '--to', TO, '--source', sourceDir];
  try {
    const { stdout } = await exec('npm', args, { cwd: PROJECT_ROOT, env: { ...process.env, DATAMART_DIR: datamartDir } });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const sourceChanged = (month: string): StaleCause => ({
  kind: 'source_changed',
  target: `gold/feature_store/${month}`,
  partition: `bronze/clickstream/${EDITED}`,
  source: 'clickstream',
  month: EDITED,
});

test('a one-month clickstream edit: --plan prints exactly the four months that read it, with their typed causes', async () => {
  const before = await planCommand();
  assert.equal(before.code, 0, before.stdout);
  assert.equal(before.stdout.trim(), `plan for ${FROM}..${TO} from ${sourceDir}: 0 of 10 months stale`);

  // One value of one customer's clickstream row of 2023-05.
  let edits = 0;
  editSourceLines(sourceDir, 'clickstream', (line) => (line.endsWith(`,${EDITED}-01`) && edits++ === 0 ? `999${line.slice(line.indexOf(','))}` : line));
  assert.equal(edits > 0, true);

  const after = await planCommand();
  assert.equal(after.code, 0, after.stdout);
  assert.deepEqual(after.stdout.trim().split('\n'), [
    `plan for ${FROM}..${TO} from ${sourceDir}: 4 of 10 months stale`,
    ...['2023-05', '2023-06', '2023-07', '2023-08'].map(
      (month) => `${month}  gold/feature_store/${month}: source changed: clickstream ${EDITED} (bronze/clickstream/${EDITED})`,
    ),
  ]);
  const plans = await planMonths(datamartDir, sourceDir, monthRange(FROM, TO));
  assert.deepEqual(
    plans.filter((plan) => !plan.current).map(({ month, causes }) => ({ month, causes })),
    ['2023-05', '2023-06', '2023-07', '2023-08'].map((month) => ({ month, causes: [sourceChanged(month)] })),
  );
});

test('after the edited month alone is rebuilt, the three later months say their input was rebuilt since', async () => {
  await materializeMonth({ datamartDir, sourceDir, month: EDITED, maxQuarantineShare: 0.2 });
  const plans = await planMonths(datamartDir, sourceDir, monthRange(FROM, TO));
  assert.deepEqual(
    plans.filter((plan) => !plan.current).map(({ month, causes }) => ({ month, causes })),
    ['2023-06', '2023-07', '2023-08'].map((month) => ({
      month,
      causes: [{ kind: 'upstream_changed', target: `gold/feature_store/${month}`, partition: `silver/clickstream/${EDITED}` }],
    })),
  );
  for (const month of ['2023-06', '2023-07', '2023-08']) await materializeMonth({ datamartDir, sourceDir, month, maxQuarantineShare: 0.2 });
  assert.ok((await planMonths(datamartDir, sourceDir, monthRange(FROM, TO))).every((plan) => plan.current));
});

test('a partition gone is missing; one written by another transform version names the versions', async () => {
  await rm(partitionFile(datamart.labelStore(datamartDir), '2023-03'));
  // Silver attributes of 2023-02 as an older silver transform (version 1) would have recorded it, and the feature
  // store of 2023-02 built on that silver (so the feature store's own record is consistent with what it read).
  const silverFile = partitionFile(datamart.sourceTable(datamartDir, 'silver', 'attributes'), '2023-02');
  const silver = (await readLineage(silverFile))!;
  const olderSilver = lineageOf(silver.table, 1, silver.month, silver.inputs);
  writeFileSync(lineageFile(silverFile), JSON.stringify(olderSilver, null, 2) + '\n');
  const featureFile = partitionFile(datamart.featureStore(datamartDir), '2023-02');
  const features = (await readLineage(featureFile))!;
  const builtOnOlder = lineageOf(features.table, features.version, features.month, { ...features.inputs, [silver.table]: olderSilver.fingerprint });
  writeFileSync(lineageFile(featureFile), JSON.stringify({ ...builtOnOlder, incomplete: [] }, null, 2) + '\n');

  const plans = await planMonths(datamartDir, sourceDir, monthRange(FROM, TO));
  assert.deepEqual(
    plans.filter((plan) => !plan.current).map(({ month, causes, reason }) => ({ month, causes, reason })),
    [
      {
        month: '2023-02',
        causes: [{ kind: 'code_version_changed', target: 'gold/feature_store/2023-02', partition: 'silver/attributes/2023-02', recorded: 1, current: 2 }],
        reason: 'gold/feature_store/2023-02: code version changed: silver/attributes v1 -> v2 (silver/attributes/2023-02)',
      },
      {
        month: '2023-03',
        causes: [{ kind: 'missing', target: 'gold/label_store/2023-03', partition: 'gold/label_store/2023-03' }],
        reason: 'gold/label_store/2023-03: missing',
      },
    ],
  );
});
