// Small gold feature and label stores of the SPEC §2 shape, generated from a seeded model with known signal,
// for training and scoring tests until (and besides) the real ETL output.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { datamart, partitionFile } from '../../lib/layout.js';
import { addMonths, monthRange, snapshotDate, type Month } from '../../lib/months.js';
import { sqlString, withDuckDB, writeParquetAtomic } from '../../core/duckdb.js';

export { seededRandom } from '../helpers/random.js';
import { seededRandom } from '../helpers/random.js';

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export interface SyntheticOptions {
  /** Application months written to the feature store. */
  from: Month;
  to: Month;
  /** Label partitions are written up to this month (labels of applications up to labelsUntil − 6). */
  labelsUntil: Month;
  perMonth: number;
  seed: number;
  /** 1: strong signal; 0: labels independent of features. */
  signal: number;
}

export interface SyntheticLoan {
  loan_id: string;
  Customer_ID: string;
  month: Month;
  Annual_Income: number | null;
  Debt_Ratio: number;
  Num_Delayed_Payment: number;
  Credit_Mix: string | null;
  Occupation: string;
  fe_1: number | null;
  label: number;
}

const OCCUPATIONS = ['Engineer', 'Teacher', 'Lawyer', 'Doctor', 'Writer', 'Mechanic', 'Manager'];
const MIXES = ['Good', 'Standard', 'Bad'];

export function syntheticLoans(options: SyntheticOptions): SyntheticLoan[] {
  const random = seededRandom(options.seed);
  const loans: SyntheticLoan[] = [];
  let serial = 0;
  for (const month of monthRange(options.from, options.to)) {
    for (let i = 0; i < options.perMonth; i++) {
      serial++;
      const income = Math.exp(10.8 + 0.5 * normal(random));
      const debtRatio = Math.max(0, 0.35 + 0.15 * normal(random));
      const delayed = Math.floor(random() * 15);
      const mix = MIXES[Math.floor(random() * 3)];
      const occupation = OCCUPATIONS[Math.floor(random() * OCCUPATIONS.length)];
      const fe1 = normal(random);
      // Non-linear signal: risk jumps with many delays, rises with debt, falls with income; Bad mix adds risk.
      const risk =
        -1.6 +
        options.signal * (2.2 * (delayed > 9 ? 1 : 0) + 4 * (debtRatio - 0.35) - 0.9 * (Math.log(income) - 10.8) + (mix === 'Bad' ? 1.1 : mix === 'Good' ? -0.8 : 0));
      const label = random() < 1 / (1 + Math.exp(-risk)) ? 1 : 0;
      loans.push({
        loan_id: `L${String(serial).padStart(6, '0')}`,
        Customer_ID: `CUS_${String(serial).padStart(6, '0')}`,
        month,
        Annual_Income: random() < 0.05 ? null : income,
        Debt_Ratio: debtRatio,
        Num_Delayed_Payment: delayed,
        Credit_Mix: random() < 0.08 ? null : mix,
        Occupation: occupation,
        fe_1: random() < 0.1 ? null : fe1,
        label,
      });
    }
  }
  return loans;
}

/** Writes gold/feature_store and gold/label_store partitions for the loans; returns them. */
export async function writeSyntheticStores(datamartDir: string, options: SyntheticOptions): Promise<SyntheticLoan[]> {
  const loans = syntheticLoans(options);
  await withDuckDB(async (db) => {
    await db.run(`CREATE TABLE loans (loan_id VARCHAR, Customer_ID VARCHAR, month VARCHAR, Annual_Income DOUBLE, Debt_Ratio DOUBLE,
      Num_Delayed_Payment DOUBLE, Credit_Mix VARCHAR, Occupation VARCHAR, fe_1 DOUBLE, label INTEGER)`);
    const appender = await db.createAppender('loans');
    for (const loan of loans) {
      appender.appendVarchar(loan.loan_id);
      appender.appendVarchar(loan.Customer_ID);
      appender.appendVarchar(loan.month);
      loan.Annual_Income === null ? appender.appendNull() : appender.appendDouble(loan.Annual_Income);
      appender.appendDouble(loan.Debt_Ratio);
      appender.appendDouble(loan.Num_Delayed_Payment);
      loan.Credit_Mix === null ? appender.appendNull() : appender.appendVarchar(loan.Credit_Mix);
      appender.appendVarchar(loan.Occupation);
      loan.fe_1 === null ? appender.appendNull() : appender.appendDouble(loan.fe_1);
      appender.appendInteger(loan.label);
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
    for (const month of monthRange(options.from, options.to)) {
      await writeParquetAtomic(
        db,
        `SELECT loan_id, Customer_ID, DATE ${sqlString(snapshotDate(month))} AS snapshot_date, Annual_Income, Debt_Ratio,
                Num_Delayed_Payment, Credit_Mix, Occupation, fe_1
         FROM loans WHERE month = ${sqlString(month)} ORDER BY loan_id`,
        partitionFile(datamart.featureStore(datamartDir), month),
      );
      const labelMonth = addMonths(month, 6);
      if (labelMonth > options.labelsUntil) continue;
      await writeParquetAtomic(
        db,
        `SELECT loan_id, Customer_ID, DATE ${sqlString(snapshotDate(month))} AS application_date,
                DATE ${sqlString(snapshotDate(labelMonth))} AS snapshot_date, CASE WHEN label = 1 THEN 45 ELSE 0 END AS dpd,
                label, '30dpd_6mob' AS label_def
         FROM loans WHERE month = ${sqlString(month)} ORDER BY loan_id`,
        partitionFile(datamart.labelStore(datamartDir), labelMonth),
      );
    }
  });
  return loans;
}

/** A fresh scratch directory under .test-tmp/<area>/, removed by the returned cleanup. */
export async function scratchDir(area: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const base = join(process.cwd(), '.test-tmp', area);
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(join(base, 'run-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const STANDARD_STORES: SyntheticOptions = {
  from: '2023-01',
  to: '2024-12',
  labelsUntil: '2024-12',
  perMonth: 250,
  seed: 611,
  signal: 1,
};
