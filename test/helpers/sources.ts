// Private copies of the real sample's four source files, so a test can change one (a month's ledger rows) and see
// what the pipeline makes of it.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_FILES, SOURCES } from '../../lib/layout.js';
import { FIXTURE_DIR } from './fixture.js';

/** Copies the sample's four files into `<dir>/sources` and returns that folder. */
export function copySources(dir: string): string {
  const out = join(dir, 'sources');
  mkdirSync(out, { recursive: true });
  for (const source of SOURCES) copyFileSync(join(FIXTURE_DIR, SOURCE_FILES[source]), join(out, SOURCE_FILES[source]));
  return out;
}

/** Rewrites the loan ledger rows of one month with `edit` (columns by name); returns how many rows it saw. */
export function editLedger(sourceDir: string, month: string, edit: (row: Record<string, string>) => void): number {
  const path = join(sourceDir, SOURCE_FILES.loan_daily);
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  let edited = 0;
  const out = lines.map((line) => {
    const values = line.split(',');
    const row = Object.fromEntries(names.map((name, i) => [name, values[i]]));
    if (row.snapshot_date !== `${month}-01`) return line;
    edit(row);
    edited++;
    return names.map((name) => row[name]).join(',');
  });
  writeFileSync(path, [header, ...out].join('\n') + '\n');
  return edited;
}

/** Changes one ledger row of `month` (an installment paid in full becomes unpaid): a different slice of that month. */
export function changeOneLedgerRow(sourceDir: string, month: string, installment = '3'): void {
  let changed = 0;
  editLedger(sourceDir, month, (row) => {
    if (changed === 0 && row.installment_num === installment) {
      row.paid_amt = '0.0';
      row.overdue_amt = String(Number(row.overdue_amt) + Number(row.due_amt));
      changed++;
    }
  });
  if (changed !== 1) throw new Error(`no ledger row of ${month} with installment_num ${installment} in ${sourceDir}`);
}

/**
 * Rewrites the data lines of one source file: `edit` gets each line, its index among the data lines and their count,
 * and returns the new line, or null to drop it. Returns how many lines it changed or dropped.
 */
export function editSourceLines(sourceDir: string, source: (typeof SOURCES)[number], edit: (line: string, index: number, count: number) => string | null): number {
  const path = join(sourceDir, SOURCE_FILES[source]);
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  let changed = 0;
  const out: string[] = [];
  lines.forEach((line, index) => {
    const edited = edit(line, index, lines.length);
    if (edited !== line) changed++;
    if (edited !== null) out.push(edited);
  });
  writeFileSync(path, [header, ...out].join('\n') + '\n');
  return changed;
}
