// Features of loan applications sent as raw records, computed by the batch path's own SQL: the records are loaded
// into bronze-shaped tables of one persistent in-memory DuckDB, cleaned by the silver query of each source and
// month (cleanedSelect, the one buildSilver runs) and joined by the feature-store SELECT (featureSelectFrom, the one
// buildFeatureStore runs). One call handles a micro-batch of applications of distinct customers and loans: the
// silver duplicate checks and the feature joins key on Customer_ID and loan_id, exactly as within one month in batch.
import { mkdir, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { SOURCES, type Source } from '../../lib/layout.js';
import { addMonths, compareMonths, snapshotDate, type Month } from '../../lib/months.js';
import { DUCKDB_MEMORY_LIMIT, plainRows, sqlIdent, sqlString } from '../duckdb.js';
import { defineCleaningMacros } from '../etl/cleaning-sql.js';
import type { DateSpelling } from '../etl/date-spelling.js';
import { CLICKSTREAM_LOOKBACK_MONTHS, featureSelectFrom } from '../etl/feature-store.js';
import { cleanedSelect } from '../etl/silver.js';
import { REQUIRED_COLUMNS } from '../etl/source-columns.js';
import type { FeatureRow } from '../models/preprocessor.js';
import { loanDateSpelling, recordMonth, RequestProblem, type RawApplication, type RawRecord } from './request.js';

/** An application checked and placed in its month, ready for the feature SQL. */
export interface PlacedApplication {
  application: RawApplication;
  month: Month;
  loanSpelling: DateSpelling;
  /** Clickstream rows inside the lookback window (the batch path reads those months only) with their month. */
  clickstream: Array<{ record: RawRecord; month: Month }>;
  /** Rows outside it, not used (later months would leak the future into the features). */
  ignoredClickstreamRows: number;
}

export type OnlineFeatures =
  | { ok: true; features: FeatureRow; rejected: RejectedRecord[] }
  | { ok: false; reason: string; rejected: RejectedRecord[] };

export interface RejectedRecord {
  source: Source;
  reason: string;
}

/** Checks the months of an application's records; throws RequestProblem naming the record and field. */
export function placeApplication(application: RawApplication, where: string): PlacedApplication {
  const loan = recordMonth(application.loan, `${where}.loan`);
  const month = loan.month;
  for (const source of ['attributes', 'financials'] as const) {
    const record = application[source];
    if (!record) continue;
    const placed = recordMonth(record, `${where}.${source}`);
    if (placed.month !== month) {
      throw new RequestProblem(`${where}.${source}.snapshot_date: month ${placed.month} is not the application month ${month} (the loan's snapshot_date)`);
    }
  }
  const clickstream: PlacedApplication['clickstream'] = [];
  let ignoredClickstreamRows = 0;
  application.clickstream.forEach((record, index) => {
    const placed = recordMonth(record, `${where}.clickstream.${index}`);
    const inWindow = compareMonths(placed.month, month) <= 0 && compareMonths(placed.month, addMonths(month, -CLICKSTREAM_LOOKBACK_MONTHS)) >= 0;
    if (inWindow) clickstream.push({ record, month: placed.month });
    else ignoredClickstreamRows++;
  });
  return { application, month, loanSpelling: loanDateSpelling(application.loan, loan.spellings), clickstream, ignoredClickstreamRows };
}

/** Keys that may not appear twice in one micro-batch: the silver and feature SQL key on them. */
export function conflictKeys(placed: PlacedApplication): string[] {
  const { loan, attributes, financials } = placed.application;
  const customers = [loan, attributes, financials, ...placed.clickstream.map((c) => c.record)]
    .map((record) => record?.Customer_ID?.trim())
    .filter((id): id is string => Boolean(id));
  return [...new Set(customers.map((id) => `customer:${id}`)), `loan:${loan.loan_id?.trim() ?? ''}`];
}

/** Applications of one month whose ledger rows share a date spelling: one execution of one prepared query. */
interface Shape {
  month: Month;
  loanSpelling: DateSpelling;
}

const SPELLING_UNUSED: DateSpelling = 'YYYY-MM-DD'; // the silver SQL of attributes, financials, clickstream ignores it
/** Prepared queries kept (two per shape: features and rejections); the current month is the one that matters. */
const MAX_PREPARED_SHAPES = 24;

function bronzeTable(source: Source): string {
  return sqlIdent(`online_bronze_${source}`);
}

/** Batches whose bronze rows are kept before old ones are deleted (one DELETE per this many batches, not per batch). */
const BATCHES_BETWEEN_PRUNES = 256;

export class OnlineFeatureStore {
  #closed = false;
  #batch = 0n;
  readonly #prepared = new Map<string, { features: DuckDBPreparedStatement; rejected: DuckDBPreparedStatement }>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    private readonly spillDirectory: string,
  ) {}

  static async open(): Promise<OnlineFeatureStore> {
    const spillDirectory = join(tmpdir(), 'credit-pipeline-duckdb', randomUUID());
    await mkdir(spillDirectory, { recursive: true });
    // One thread: each query holds a few rows; parallel operators would only add scheduling work.
    const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: DUCKDB_MEMORY_LIMIT, temp_directory: spillDirectory });
    const db = await instance.connect();
    await defineCleaningMacros(db);
    // Two optimizer passes that pay off on a month of rows cost most of the time on a handful: `in_clause` turns each
    // `IN (list)` of the cleaning macros into a hash join (built per execution), and `cte_inlining` copies a CTE's
    // expressions into every use (financials' loan-type list, built with lambdas, was rebuilt in each of its uses).
    // Disabled, the same SQL gives the same rows 3-5× faster here (one financials row: 11.5 → 2.3 ms).
    await db.run(`SET disabled_optimizers = 'in_clause,cte_inlining'`);
    for (const source of SOURCES) {
      const columns = REQUIRED_COLUMNS[source].map((column) => `${sqlIdent(column)} VARCHAR`);
      await db.run(`CREATE TABLE ${bronzeTable(source)} (${columns.join(', ')}, source_line BIGINT, online_month VARCHAR, online_batch BIGINT)`);
    }
    // The batch being computed, read by the queries from this table: a bound parameter would make DuckDB plan the
    // prepared query again at every execution (3× its cost here).
    await db.run('CREATE TABLE online_current (batch BIGINT); INSERT INTO online_current VALUES (0)');
    return new OnlineFeatureStore(instance, db, spillDirectory);
  }

  /** Features (or the reason there are none) per application, in order. Not reentrant: callers serialize calls. */
  async compute(applications: readonly PlacedApplication[]): Promise<OnlineFeatures[]> {
    if (this.#closed) throw new Error('the online feature store is closed');
    const results = new Array<OnlineFeatures>(applications.length);
    const shapes = new Map<string, number[]>();
    applications.forEach((placed, index) => {
      const key = `${placed.month}|${placed.loanSpelling}`;
      shapes.set(key, [...(shapes.get(key) ?? []), index]);
    });
    for (const indexes of shapes.values()) {
      const group = indexes.map((index) => applications[index]);
      const computed = await this.#computeShape({ month: group[0].month, loanSpelling: group[0].loanSpelling }, group);
      indexes.forEach((index, k) => (results[index] = computed[k]));
    }
    return results;
  }

  async #computeShape(shape: Shape, applications: readonly PlacedApplication[]): Promise<OnlineFeatures[]> {
    const owners = await this.#load(applications);
    const statements = await this.#statements(shape);
    const features = plainRows(await statements.features.runAndReadAll());
    const byLoan = new Map(features.map((row) => [row.loan_id as string, row]));
    const missing = applications.some((placed) => !byLoan.has(placed.application.loan.loan_id?.trim() ?? ''));
    const rejectedOf = applications.map(() => [] as RejectedRecord[]);
    // Rejections only matter when an application gets no features; otherwise skip the second query.
    if (missing) {
      for (const row of plainRows<{ source: Source; source_line: number; reason: string }>(await statements.rejected.runAndReadAll())) {
        rejectedOf[owners[row.source][row.source_line]].push({ source: row.source, reason: row.reason });
      }
    }
    return applications.map((placed, index): OnlineFeatures => {
      const row = byLoan.get(placed.application.loan.loan_id?.trim() ?? '');
      const problems = rejectedOf[index];
      if (row) return { ok: true, features: row, rejected: problems };
      const loanProblem = problems.find((problem) => problem.source === 'loan_daily')?.reason;
      return {
        ok: false,
        rejected: problems,
        reason: loanProblem
          ? `the loan record is rejected by the silver checks: ${loanProblem}`
          : 'the loan record is not an application (installment_num must be 0)',
      };
    });
  }

  /**
   * Appends the applications' records to the bronze tables as a new batch (queries select their batch by number,
   * so no per-batch DELETE); returns the application of each source_line.
   */
  async #load(applications: readonly PlacedApplication[]): Promise<Record<Source, number[]>> {
    const rows = Object.fromEntries(SOURCES.map((source) => [source, [] as Array<{ record: RawRecord; month: Month; owner: number }>]));
    applications.forEach((placed, owner) => {
      rows.loan_daily.push({ record: placed.application.loan, month: placed.month, owner });
      if (placed.application.attributes) rows.attributes.push({ record: placed.application.attributes, month: placed.month, owner });
      if (placed.application.financials) rows.financials.push({ record: placed.application.financials, month: placed.month, owner });
      for (const click of placed.clickstream) rows.clickstream.push({ ...click, owner });
    });
    this.#batch++;
    const prune = this.#batch % BigInt(BATCHES_BETWEEN_PRUNES) === 0n;
    await this.db.run(
      [`UPDATE online_current SET batch = ${this.#batch}`, ...(prune ? SOURCES.map((source) => `DELETE FROM ${bronzeTable(source)} WHERE online_batch < ${this.#batch}`) : [])].join('; '),
    );
    for (const source of SOURCES) {
      if (rows[source].length === 0) continue;
      const columns = REQUIRED_COLUMNS[source];
      const appender = await this.db.createAppender(`online_bronze_${source}`);
      rows[source].forEach(({ record, month }, line) => {
        for (const column of columns) {
          // The CSV reader makes an empty field NULL: so does this.
          const value = record[column];
          if (value === null || value === undefined || value === '') appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.appendBigInt(BigInt(line));
        appender.appendVarchar(month);
        appender.appendBigInt(this.#batch);
        appender.endRow();
      });
      appender.closeSync();
    }
    return Object.fromEntries(SOURCES.map((source) => [source, rows[source].map((row) => row.owner)])) as Record<Source, number[]>;
  }

  async #statements(shape: Shape) {
    const key = `${shape.month}|${shape.loanSpelling}`;
    let statements = this.#prepared.get(key);
    if (!statements) {
      if (this.#prepared.size >= MAX_PREPARED_SHAPES) {
        const [oldest, old] = this.#prepared.entries().next().value!;
        old.features.destroySync();
        old.rejected.destroySync();
        this.#prepared.delete(oldest);
      }
      const silver = (source: Source) => this.#silverSql(source, shape);
      const accepted = (source: Source) => `(SELECT * EXCLUDE (reason) FROM (${silver(source)}) WHERE reason IS NULL)`;
      statements = {
        features: await this.db.prepare(
          featureSelectFrom({ loans: accepted('loan_daily'), attributes: accepted('attributes'), financials: accepted('financials'), clickstream: accepted('clickstream') }),
        ),
        rejected: await this.db.prepare(
          SOURCES.map((source) => `SELECT ${sqlString(source)} AS source, source_line, reason FROM (${silver(source)}) WHERE reason IS NOT NULL`).join('\nUNION ALL\n'),
        ),
      };
      this.#prepared.set(key, statements);
    }
    return statements;
  }

  /**
   * Silver rows of one source for applications of `shape.month`, through the batch path's cleaning query over a
   * `bronze` of each month involved: the application month, and for clickstream every month of the lookback.
   */
  #silverSql(source: Source, shape: Shape): string {
    const rawColumns = REQUIRED_COLUMNS[source];
    const months = source === 'clickstream'
      ? Array.from({ length: CLICKSTREAM_LOOKBACK_MONTHS + 1 }, (_, back) => addMonths(shape.month, -back))
      : [shape.month];
    const spelling = source === 'loan_daily' ? shape.loanSpelling : SPELLING_UNUSED;
    return months
      .map(
        (month) => `SELECT * FROM (
          WITH bronze AS (SELECT ${rawColumns.map(sqlIdent).join(', ')}, source_line FROM ${bronzeTable(source)} WHERE online_batch = (SELECT batch FROM online_current) AND online_month = ${sqlString(month)})
          SELECT * FROM (${cleanedSelect(source, { snapshotDate: snapshotDate(month), dateSpelling: spelling }, rawColumns)}))`,
      )
      .join('\nUNION ALL\n');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const statements of this.#prepared.values()) {
      statements.features.destroySync();
      statements.rejected.destroySync();
    }
    this.#prepared.clear();
    this.db.closeSync();
    this.instance.closeSync();
    await rm(this.spillDirectory, { recursive: true, force: true });
  }
}
