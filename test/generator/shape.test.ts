// The generated files against the real sample: headers, grain, date spellings and dirt shares.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSources } from '../../core/generator/index.js';
import { addMonths, monthRange, monthsBetween } from '../../lib/months.js';
import { FILES, REAL_SAMPLE, readSources, share, type Table } from './helpers.js';

const OUT = join(process.cwd(), '.test-tmp', 'generator', 'shape');
const CUSTOMERS = 3000;
const ISO = /^\d{4}-\d{2}-01$/;
const US_SHORT = /^([1-9]|1[0-2])\/1\/\d{2}$/;

const isNumber = (value: string) => /^-?\d+(\.\d+)?$/.test(value);
const numeric = (value: string) => Number(value.replace(/_+$/, ''));
const trailingUnderscore = (value: string) => /^-?\d+(\.\d+)?_$/.test(value);

// Kinds of dirt: [file, column, test]. Shares are compared between the real sample and the generated data.
const DIRT: [keyof typeof FILES, string, string, (value: string) => boolean][] = [
  ['attributes', 'Age', 'trailing underscore', trailingUnderscore],
  ['attributes', 'Age', 'negative', (v) => numeric(v) < 0],
  ['attributes', 'Age', 'over 100', (v) => numeric(v) > 100],
  ['attributes', 'SSN', 'placeholder', (v) => v === '#F%$D@*&8'],
  ['attributes', 'Occupation', 'placeholder', (v) => v === '_______'],
  ['financials', 'Annual_Income', 'trailing underscore', trailingUnderscore],
  ['financials', 'Annual_Income', 'absurd (> 300k)', (v) => numeric(v) > 300_000],
  ['financials', 'Num_of_Loan', 'trailing underscore', trailingUnderscore],
  ['financials', 'Num_of_Loan', '-100', (v) => numeric(v) === -100],
  ['financials', 'Num_of_Delayed_Payment', 'trailing underscore', trailingUnderscore],
  ['financials', 'Num_Bank_Accounts', 'absurd (> 11)', (v) => numeric(v) > 11],
  ['financials', 'Num_Credit_Card', 'absurd (> 11)', (v) => numeric(v) > 11],
  ['financials', 'Interest_Rate', 'absurd (> 34)', (v) => numeric(v) > 34],
  ['financials', 'Num_Credit_Inquiries', 'absurd (> 17)', (v) => numeric(v) > 17],
  ['financials', 'Changed_Credit_Limit', "'_' missing", (v) => v === '_'],
  ['financials', 'Credit_Mix', "'_' missing", (v) => v === '_'],
  ['financials', 'Outstanding_Debt', 'trailing underscore', trailingUnderscore],
  ['financials', 'Amount_invested_monthly', '__10000__', (v) => v === '__10000__'],
  ['financials', 'Payment_Behaviour', 'placeholder', (v) => v === '!@9#%8'],
  ['financials', 'Type_of_Loan', 'empty (no loans)', (v) => v === ''],
  ['financials', 'Type_of_Loan', 'a comma list', (v) => v.includes(', and ')],
  ['financials', 'Credit_History_Age', 'blank', (v) => v === ''],
  ['financials', 'Payment_of_Min_Amount', 'NM', (v) => v === 'NM'],
  ['financials', 'Total_EMI_per_month', 'zero', (v) => numeric(v) === 0],
];

describe('generated sources have the shape of the real sample', () => {
  let real: Record<keyof typeof FILES, Table>;
  let generated: Record<keyof typeof FILES, Table>;

  before(async () => {
    await rm(OUT, { recursive: true, force: true });
    await generateSources({ customers: CUSTOMERS, seed: 42, out: OUT });
    real = readSources(REAL_SAMPLE);
    generated = readSources(OUT);
  });
  after(() => rm(OUT, { recursive: true, force: true }));

  it('has the same header, column for column, in every file', () => {
    for (const file of Object.keys(FILES) as (keyof typeof FILES)[]) {
      assert.deepEqual(generated[file].header, real[file].header, `${FILES[file]} header`);
    }
  });

  it('spells snapshot dates as the real files do: ISO in three, M/d/yy in financials', () => {
    for (const file of ['attributes', 'clickstream', 'loan_daily'] as const) {
      assert.ok(generated[file].rows.every((row) => ISO.test(row.snapshot_date)), `${file} dates are ISO`);
    }
    assert.ok(generated.loan_daily.rows.every((row) => ISO.test(row.loan_start_date)));
    assert.ok(generated.financials.rows.every((row) => US_SHORT.test(row.snapshot_date)), 'financials dates are M/1/yy');
    assert.ok(readFileSync(join(OUT, FILES.financials), 'utf8').includes(',"'), 'Type_of_Loan lists are quoted');
  });

  it('has one attributes and one financials row per customer, at the application month, over 2023-01..2025-01', () => {
    const ids = generated.attributes.rows.map((row) => row.Customer_ID);
    assert.equal(ids.length, CUSTOMERS);
    assert.equal(new Set(ids).size, CUSTOMERS);
    assert.ok(ids.every((id) => /^CUS_0x[0-9a-f]+$/.test(id)));
    const financialMonth = new Map(
      generated.financials.rows.map((row) => {
        const [m, , yy] = row.snapshot_date.split('/');
        return [row.Customer_ID, `20${yy}-${m.padStart(2, '0')}`];
      }),
    );
    assert.equal(financialMonth.size, CUSTOMERS);
    for (const row of generated.attributes.rows) assert.equal(financialMonth.get(row.Customer_ID), row.snapshot_date.slice(0, 7));
    const months = new Set(generated.attributes.rows.map((row) => row.snapshot_date.slice(0, 7)));
    assert.deepEqual([...months].sort(), monthRange('2023-01', '2025-01'));
  });

  it('has clickstream for about the real share of customers, every observed month 2023-01..2024-12', () => {
    const byCustomer = (table: Table) => {
      const counts = new Map<string, number>();
      for (const row of table.rows) counts.set(row.Customer_ID, (counts.get(row.Customer_ID) ?? 0) + 1);
      return counts;
    };
    const generatedCounts = byCustomer(generated.clickstream);
    const realCounts = byCustomer(real.clickstream);
    assert.ok([...generatedCounts.values()].every((count) => count === 24), 'each clickstream customer has all 24 months');
    const generatedShare = generatedCounts.size / CUSTOMERS;
    const realShare = realCounts.size / real.attributes.rows.length;
    assert.ok(Math.abs(generatedShare - realShare) < 0.03, `clickstream share ${generatedShare} vs real ${realShare}`);
    const months = new Set(generated.clickstream.rows.map((row) => row.snapshot_date.slice(0, 7)));
    assert.deepEqual([...months].sort(), monthRange('2023-01', '2024-12'));
    assert.ok(generated.clickstream.rows.every((row) => Array.from({ length: 20 }, (_, i) => row[`fe_${i + 1}`]).every((v) => /^-?\d+$/.test(v))));
  });

  it('has one ledger row per loan per month on book, installments 0..10, cut at 2024-12', () => {
    const applicationMonth = new Map(generated.attributes.rows.map((row) => [row.Customer_ID, row.snapshot_date.slice(0, 7)]));
    const loans = new Map<string, Record<string, string>[]>();
    for (const row of generated.loan_daily.rows) {
      const list = loans.get(row.loan_id) ?? [];
      list.push(row);
      loans.set(row.loan_id, list);
    }
    let expectedLoans = 0;
    for (const month of applicationMonth.values()) if (month <= '2024-12') expectedLoans++;
    assert.equal(loans.size, expectedLoans, 'one loan per customer applying up to the last ledger month');
    for (const [loanId, rows] of loans) {
      const start = rows[0].loan_start_date.slice(0, 7);
      assert.equal(applicationMonth.get(rows[0].Customer_ID), start, `${loanId} starts at the application month`);
      assert.equal(loanId, `${rows[0].Customer_ID}_${start.replace('-', '_')}_01`);
      const expectedRows = Math.min(10, monthsBetween(start, '2024-12')) + 1;
      assert.equal(rows.length, expectedRows, `${loanId} rows`);
      rows.forEach((row, installment) => {
        assert.equal(Number(row.installment_num), installment);
        assert.equal(row.snapshot_date, `${addMonths(start, installment)}-01`);
        assert.equal(row.tenure, '10');
        assert.equal(row.loan_amt, '10000');
        const [due, paid, overdue, balance] = [row.due_amt, row.paid_amt, row.overdue_amt, row.balance].map(Number);
        assert.equal(due, installment === 0 ? 0 : 1000);
        assert.equal(overdue, 1000 * installment - (10000 - balance), `${loanId} overdue = due so far - paid so far`);
        assert.ok(paid >= 0 && overdue >= 0);
      });
    }
    // Every real ledger value is written as the real file writes it ('1000.0', '0.0').
    assert.ok(generated.loan_daily.rows.every((row) => /^\d+\.0$/.test(row.due_amt) && /^\d+\.0$/.test(row.balance)));
  });

  it('carries every kind of dirt of the real sample in a similar share', () => {
    const problems: string[] = [];
    for (const [file, column, kind, test] of DIRT) {
      const realShare = share(real[file], column, test);
      const generatedShare = share(generated[file], column, test);
      // Four standard errors of the difference of two sample shares, and at least half a point.
      const p = Math.max((realShare + generatedShare) / 2, 0.002);
      const tolerance = Math.max(0.005, 4 * Math.sqrt(p * (1 - p) * (1 / real[file].rows.length + 1 / generated[file].rows.length)));
      const line = `${file}.${column} ${kind}: real ${realShare.toFixed(4)}, generated ${generatedShare.toFixed(4)} (±${tolerance.toFixed(4)})`;
      if (Math.abs(realShare - generatedShare) > tolerance) problems.push(line);
      if (realShare > 0 && generatedShare === 0) problems.push(`${line}: missing`);
    }
    assert.deepEqual(problems, []);
  });

  it('keeps clean numbers in the real ranges', () => {
    const median = (table: Table, column: string) => {
      const values = table.rows.map((row) => row[column].replace(/_+$/, '')).filter(isNumber).map(Number).sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)];
    };
    for (const column of ['Annual_Income', 'Interest_Rate', 'Delay_from_due_date', 'Num_of_Delayed_Payment', 'Outstanding_Debt', 'Credit_Utilization_Ratio']) {
      const r = median(real.financials, column);
      const g = median(generated.financials, column);
      assert.ok(Math.abs(g - r) / Math.abs(r) < 0.25, `${column} median ${g} vs real ${r}`);
    }
    const ages = generated.attributes.rows.map((row) => numeric(row.Age)).filter((age) => age >= 0 && age <= 100);
    assert.ok(Math.min(...ages) >= 14 && Math.max(...ages) <= 56);
  });
});
