// Every loan application of a sources folder as the raw records POST /v1/score takes: the loan's installment-0 ledger
// row, the customer's attributes and financials rows of that month (null when absent) and all their clickstream rows.
// Read with the tests' own CSV reader, independent of the product's DuckDB reading. Used by the serving test and bench.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE_FILES } from '../../lib/layout.js';
import { recordMonth } from '../../core/serving/request.js';
import { parseCsv } from './csv.js';

/** The real sample beside the project (../shared), as test/helpers/fixture.ts finds it. */
export const SAMPLE_SOURCES_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/fixtures/cs611-sample');

function rows(sourceDir: string, file: string): Record<string, string>[] {
  return parseCsv(readFileSync(join(sourceDir, file), 'utf8')).rows;
}

function monthOfRecord(record: Record<string, string>): string | null {
  try {
    return recordMonth(record, 'fixture').month;
  } catch {
    return null;
  }
}

type CsvRecord = Record<string, string>;

/** What POST /v1/score takes for one application (a RawApplication), with every field present as text. */
export interface FixtureApplication {
  loan: CsvRecord;
  attributes: CsvRecord | null;
  financials: CsvRecord | null;
  clickstream: CsvRecord[];
}

export function rawApplications(sourceDir: string): FixtureApplication[] {
  const byCustomerMonth = (file: string) => {
    const index = new Map<string, Record<string, string>>();
    for (const row of rows(sourceDir, file)) index.set(`${row.Customer_ID.trim()}|${monthOfRecord(row)}`, row);
    return index;
  };
  const attributes = byCustomerMonth(SOURCE_FILES.attributes);
  const financials = byCustomerMonth(SOURCE_FILES.financials);
  const clicks = new Map<string, Record<string, string>[]>();
  for (const row of rows(sourceDir, SOURCE_FILES.clickstream)) {
    const key = row.Customer_ID.trim();
    clicks.set(key, [...(clicks.get(key) ?? []), row]);
  }
  return rows(sourceDir, SOURCE_FILES.loan_daily)
    .filter((row) => row.installment_num.trim() === '0')
    .map((loan) => {
      const key = `${loan.Customer_ID.trim()}|${monthOfRecord(loan)}`;
      return {
        loan,
        attributes: attributes.get(key) ?? null,
        financials: financials.get(key) ?? null,
        clickstream: clicks.get(loan.Customer_ID.trim()) ?? [],
      };
    });
}
