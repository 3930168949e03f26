// The mutation suite (npm run test:mutations): every class of bad input of test/helpers/mutations.ts applied to a copy
// of the real sample, the month's ETL run on a copy of a good datamart, and the outcome classified. The test fails
// when an outcome is not one the class allows, and above all on "silent": gold changed with no refusal, quarantine,
// counted NULL or finding to show for it. It rewrites the outcome table of docs/bad-input.md (scripts/docs/bad-input.ts).
import assert from 'node:assert/strict';
import { cp, rm, utimes, stat, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { materializeMonth, type MonthEtlResult } from '../../core/datamart/materialize.js';
import { DataQualityError, InvalidSourceData } from '../../lib/errors.js';
import { SOURCE_FILES } from '../../lib/layout.js';
import { addMonths } from '../../lib/months.js';
import { copySample, hashTree, removeDir, SAMPLE_DIR, tempDir, withSourceRows } from '../etl/helpers.js';
import { MUTATION_CLASSES, type Outcome } from '../helpers/mutations.js';
import { API_MUTATION_CLASSES } from '../helpers/api-mutations.js';
import { startScoringServer, type ScoringServer } from '../../core/serving/app.js';
import { rawApplications } from '../../tools/bench/sample-applications.js';
import type { RawApplication } from '../../core/serving/request.js';
import { mkdir } from 'node:fs/promises';
import { writeMutationTable, type MutationRow } from '../../scripts/docs/bad-input.js';

const MONTH = '2023-07';
let root: string;
let baseline: string;
let baselineGold: Map<string, string>;
let baselineResult: MonthEtlResult;
const rows: MutationRow[] = [];

before(async () => {
  root = await tempDir('mutations');
  baseline = join(root, 'baseline');
  await materializeMonth({ datamartDir: baseline, sourceDir: SAMPLE_DIR, month: addMonths(MONTH, -1), maxQuarantineShare: 0.2 });
  baselineResult = withSourceRows(await materializeMonth({ datamartDir: baseline, sourceDir: SAMPLE_DIR, month: MONTH, maxQuarantineShare: 0.2 }));
  baselineGold = await hashTree(join(baseline, 'gold'));
});
after(async () => {
  await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
});

const nulled = (result: MonthEtlResult) => result.silver.reduce((sum, s) => sum + s.nulledValues.reduce((n, v) => n + v.count, 0), 0);
const quarantined = (result: MonthEtlResult) => result.silver.reduce((sum, s) => sum + s.quarantined, 0);

/** What the month's ETL made of the mutated sources, with a detail line for the table. */
async function outcomeOf(datamartDir: string, sourceDir: string, month: string): Promise<{ outcome: Outcome | 'SILENT'; detail: string }> {
  let result: MonthEtlResult;
  try {
    result = withSourceRows(await materializeMonth({ datamartDir, sourceDir, month, maxQuarantineShare: 0.2 }));
  } catch (error) {
    if (error instanceof InvalidSourceData) return { outcome: 'refused (InvalidSourceData)', detail: error.message.replace(sourceDir + '/', '') };
    if (error instanceof DataQualityError) return { outcome: 'month failed (DataQualityError)', detail: error.message };
    throw error;
  }
  const findings = result.silver.flatMap((s) => s.findings);
  if (findings.length > 0) return { outcome: 'data finding', detail: findings.join('; ') };
  if (quarantined(result) > quarantined(baselineResult)) {
    const reasons = result.silver.filter((s, i) => s.quarantined > baselineResult.silver[i].quarantined).map((s) => `${s.source}: ${s.quarantined - baselineResult.silver.find((b) => b.source === s.source)!.quarantined} more rows`);
    return { outcome: 'rows quarantined with a reason', detail: reasons.join('; ') };
  }
  if (nulled(result) > nulled(baselineResult)) {
    const more = result.silver.flatMap((s) => {
      const before = baselineResult.silver.find((b) => b.source === s.source)!;
      return s.nulledValues.filter((v) => v.count > (before.nulledValues.find((b) => b.column === v.column)?.count ?? 0)).map((v) => `${s.source}.${v.column}: ${v.count} of ${v.rows} ${v.reason}`);
    });
    return { outcome: 'values kept as NULL, counted per column', detail: more.join('; ') };
  }
  const gold = await hashTree(join(datamartDir, 'gold'));
  // The data, not the lineage beside it (a changed text column that feeds no feature changes the slice's fingerprint).
  const data = ([path]: [string, string]) => path.endsWith('data.parquet');
  if ([...baselineGold].filter(data).every(([path, hash]) => gold.get(path) === hash)) return { outcome: 'gold unchanged', detail: 'the same gold as from the unmutated sample' };
  return { outcome: 'SILENT', detail: 'gold changed with nothing to show for it' };
}

for (const mutation of MUTATION_CLASSES) {
  test(`mutation: ${mutation.name}`, async () => {
    const sourceDir = await copySample('mutated');
    const datamartDir = join(root, `dm-${rows.length}`);
    try {
      mutation.apply(sourceDir);
      await cp(baseline, datamartDir, { recursive: true });
      const { outcome, detail } = await outcomeOf(datamartDir, sourceDir, mutation.month);
      rows.push({ name: mutation.name, outcome, detail });
      assert.ok((mutation.expect as string[]).includes(outcome), `${mutation.name}: ${outcome} (${detail}); expected ${mutation.expect.join(' or ')}`);
    } finally {
      // The datamart stays until the end: a refused month may leave another source's staging still finishing.
      await removeDir(sourceDir);
    }
  });
}

test('mutation: a same-size edit with the old mtime restored (touch -d) is seen on the next run', async () => {
  const sourceDir = await copySample('restamped');
  const datamartDir = join(root, 'dm-restamped');
  const name = 'same-size edit of the ledger with its old mtime restored';
  try {
    await materializeMonth({ datamartDir, sourceDir, month: MONTH, maxQuarantineShare: 0.2 });
    const labelsBefore = await hashTree(join(datamartDir, 'gold', 'label_store'));
    const path = join(sourceDir, SOURCE_FILES.loan_daily);
    const { size, mtime, atime } = await stat(path);
    const text = await readFile(path, 'utf8');
    // An instalment-6 row of the month paid in full becomes 'unpaid' (overdue 0.0 → 9.0): same length, another label.
    const lines = text.split('\n');
    const index = lines.findIndex((line) => line.endsWith(`,${MONTH}-01`) && line.split(',')[4] === '6' && /,0\.0,[0-9.]+,[^,]+$/.test(line));
    assert.ok(index > 0, 'an instalment-6 row with nothing overdue');
    lines[index] = lines[index].replace(/,0\.0,([0-9.]+),([^,]+)$/, ',9.0,$1,$2');
    await writeFile(path, lines.join('\n'));
    await utimes(path, atime, mtime);
    assert.equal((await stat(path)).size, size);
    assert.equal((await stat(path)).mtimeMs, mtime.getTime());
    const { outcome } = await outcomeOf(datamartDir, sourceDir, MONTH);
    const labelsAfter = await hashTree(join(datamartDir, 'gold', 'label_store'));
    const seen = [...labelsAfter].some(([file, hash]) => labelsBefore.get(file) !== hash);
    rows.push({ name, outcome: seen ? 'edit seen: the month rebuilt from the new bytes' : 'SILENT', detail: seen ? 'the label store follows the edited row (a new staging key: ctime and inode)' : `the old staging was reused (${outcome})` });
    assert.ok(seen, 'the label store follows the edited row');
  } finally {
    await removeDir(sourceDir);
    await removeDir(datamartDir);
  }
});

async function post(server: ScoringServer, application: unknown): Promise<{ status: number; message: string }> {
  const response = await fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ application }) });
  const json = (await response.json()) as { message?: string };
  return { status: response.status, message: json.message ?? '' };
}

let server: ScoringServer | undefined;
let applicant: RawApplication;
let otherApplicant: RawApplication;
async function scoringServer(): Promise<ScoringServer> {
  if (server) return server;
  // The API checks requests before it needs a model: an empty model bank answers a good request 503, a bad one 400.
  const modelBankDir = join(root, 'model_bank');
  await mkdir(modelBankDir, { recursive: true });
  server = await startScoringServer({
    datamartDir: baseline, modelBankDir, host: '127.0.0.1', port: 0, bodyLimitBytes: 1024 * 1024, maxBatch: 8, maxQueue: 100,
    featureConnections: 1, featureThreads: 1, loneRequestThreads: 1, registryPollMs: 200, flushRows: 1000, flushSeconds: 3600,
    maxEventLoopDelayMs: 0, logLevel: 'silent',
  });
  const july = rawApplications(SAMPLE_DIR).filter((a) => a.loan.snapshot_date.startsWith(MONTH) && a.financials && a.clickstream.length > 0);
  [applicant, otherApplicant] = july as unknown as RawApplication[];
  const control = await post(server, applicant);
  assert.equal(control.status, 503, `the unmutated application passes the checks: ${control.message}`);
  return server;
}
after(async () => {
  await server?.close();
});

for (const mutation of API_MUTATION_CLASSES) {
  test(`mutation (scoring API): ${mutation.name}`, async () => {
    const api = await scoringServer();
    const { status, message } = await post(api, mutation.edit(applicant, otherApplicant));
    rows.push({ name: `API: ${mutation.name}`, outcome: status === 400 ? 'request refused (400 naming the field)' : 'SILENT', detail: message });
    assert.equal(status, 400, message);
    assert.match(message, mutation.field);
  });
}

test('the outcome table is written to docs/bad-input.md', async () => {
  assert.ok(rows.length >= MUTATION_CLASSES.length + 1 + API_MUTATION_CLASSES.length, `${rows.length} outcomes`);
  assert.ok(rows.every((row) => row.outcome !== 'SILENT'), rows.filter((row) => row.outcome === 'SILENT').map((row) => row.name).join(', '));
  await writeMutationTable(rows);
});
