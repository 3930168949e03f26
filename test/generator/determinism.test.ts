import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSources } from '../../core/generator/index.js';

const ROOT = join(process.cwd(), '.test-tmp', 'generator', 'determinism');
const NAMES = ['features_attributes.csv', 'features_financials.csv', 'feature_clickstream.csv', 'lms_loan_daily.csv'];

async function contents(dir: string): Promise<string[]> {
  return Promise.all(NAMES.map((name) => readFile(join(dir, name), 'utf8')));
}

describe('generator determinism', () => {
  before(async () => {
    await rm(ROOT, { recursive: true, force: true });
    await generateSources({ customers: 800, seed: 7, out: join(ROOT, 'a') });
    await generateSources({ customers: 800, seed: 7, out: join(ROOT, 'b') });
    await generateSources({ customers: 800, seed: 8, out: join(ROOT, 'c') });
  });
  after(() => rm(ROOT, { recursive: true, force: true }));

  it('writes byte-identical files for the same seed and options', async () => {
    const [a, b] = await Promise.all([contents(join(ROOT, 'a')), contents(join(ROOT, 'b'))]);
    for (let i = 0; i < NAMES.length; i++) assert.equal(a[i], b[i], `${NAMES[i]} differs between two runs of seed 7`);
  });

  it('writes different files for a different seed', async () => {
    const [a, c] = await Promise.all([contents(join(ROOT, 'a')), contents(join(ROOT, 'c'))]);
    for (let i = 0; i < NAMES.length; i++) assert.notEqual(a[i], c[i], `${NAMES[i]} is the same for seeds 7 and 8`);
  });

  it('leaves only the four source files (temporary files renamed away)', async () => {
    assert.deepEqual((await readdir(join(ROOT, 'a'))).sort(), [...NAMES].sort());
  });

  it('reports the rows it wrote', async () => {
    const result = await generateSources({ customers: 50, seed: 1, out: join(ROOT, 'd') });
    const text = await contents(join(ROOT, 'd'));
    const lines = text.map((file) => file.trimEnd().split('\n').length - 1);
    assert.deepEqual(
      [result.rows.attributes, result.rows.financials, result.rows.clickstream, result.rows.loan_daily],
      lines,
    );
    assert.equal(result.rows.attributes, 50);
  });

  it('rejects bad options with errors naming the option', async () => {
    await assert.rejects(generateSources({ customers: 0, out: join(ROOT, 'e') }), /--customers: customers must be at least 1/);
    await assert.rejects(generateSources({ from: '2023-13', out: join(ROOT, 'e') }), /--from: from must be a month/);
    await assert.rejects(generateSources({ scenario: 'chaos' as never, out: join(ROOT, 'e') }), /--scenario: scenario must be one of/);
    await assert.rejects(generateSources({ from: '2024-05', to: '2024-01', out: join(ROOT, 'e') }), /--to: to \(2024-01\) is before from/);
    await assert.rejects(generateSources({ seed: 1.5, out: join(ROOT, 'e') }), /--seed: seed must be a whole number/);
  });
});
