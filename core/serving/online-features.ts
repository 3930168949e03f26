// Features of loan applications sent as raw records, computed by the batch path's own SQL: the records are the
// parameters of one prepared query on a persistent in-memory DuckDB (JSON text per source, unnested as its `bronze`),
// cleaned by the silver query of each source and month (cleanedSelect, the one buildSilver runs) and joined by the
// feature-store SELECT (featureSelectFrom, the one buildFeatureStore runs). One call handles a micro-batch of
// applications of distinct customers and loans: the silver duplicate checks and the feature joins key on Customer_ID
// and loan_id, exactly as within one month in batch. No table holds request data: several connections compute
// batches at once, each in its own statement's parameters (appending the rows to tables and rolling them back cost a
// quarter of a single application's time, on the event loop's thread).
import { mkdir, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { CLICKSTREAM_LOOKBACK, SOURCES, type Source } from '../../lib/layout.js';
import { addMonths, compareMonths, snapshotDate, type Month } from '../../lib/months.js';
import { duckdbSettings, plainRows, sqlString } from '../duckdb.js';
import { defineCleaningMacros } from '../etl/cleaning-sql.js';
import type { DateSpelling } from '../etl/date-spelling.js';
import { featureSelectFrom } from '../etl/feature-store.js';
import { cleanedSelect } from '../etl/silver.js';
import { REQUIRED_COLUMNS } from '../etl/source-columns.js';
import type { FeatureRow } from '../features/preprocessor.js';
import { packQuery, unpackRows, type PackedQuery } from './packed-rows.js';
import { loanDateSpelling, recordMonth, RequestProblem, type RawApplication, type RawRecord } from './request.js';
import type { MonthBounds } from './month-bounds.js';

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

/**
 * Checks the months and customers of an application's records; throws RequestProblem naming the record and field.
 * Every record must be the applicant's (the loan's Customer_ID: another customer's financials would be dropped by the
 * feature join and the application scored without them), and the application month must lie within `bounds` (the
 * months the datamart can explain, month-bounds.ts) when given.
 */
export function placeApplication(application: RawApplication, where: string, bounds?: MonthBounds | null): PlacedApplication {
  const loan = recordMonth(application.loan, `${where}.loan`);
  const month = loan.month;
  if (bounds && (compareMonths(month, bounds.first) < 0 || compareMonths(month, bounds.last) > 0)) {
    throw new RequestProblem(
      `${where}.loan.snapshot_date: month ${month} is outside ${bounds.first}..${bounds.last}, the months ${bounds.from} can explain (its first month to the month after its newest)`,
    );
  }
  const customer = application.loan.Customer_ID?.trim();
  const sameCustomer = (record: RawRecord, field: string) => {
    if (customer && (record.Customer_ID?.trim() ?? '') !== customer) {
      throw new RequestProblem(`${field}.Customer_ID: not the application's Customer_ID (the loan's): every record must be the applicant's`);
    }
  };
  for (const source of ['attributes', 'financials'] as const) {
    const record = application[source];
    if (!record) continue;
    sameCustomer(record, `${where}.${source}`);
    const placed = recordMonth(record, `${where}.${source}`);
    if (placed.month !== month) {
      throw new RequestProblem(`${where}.${source}.snapshot_date: month ${placed.month} is not the application month ${month} (the loan's snapshot_date)`);
    }
  }
  const clickstream: PlacedApplication['clickstream'] = [];
  let ignoredClickstreamRows = 0;
  application.clickstream.forEach((record, index) => {
    sameCustomer(record, `${where}.clickstream.${index}`);
    const placed = recordMonth(record, `${where}.clickstream.${index}`);
    const inWindow = compareMonths(placed.month, month) <= 0 && compareMonths(placed.month, addMonths(month, -CLICKSTREAM_LOOKBACK)) >= 0;
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
  /** No two clickstream rows of the batch share a customer and month: their repeat checks cannot fire. */
  clickstreamKeysUnique: boolean;
}

/**
 * Whether the clickstream rows of a batch have distinct keys (Customer_ID and month). The month is the one the row was
 * placed in, the one its SQL cleaning uses; two customer ids that clean to the same one (etl_customer) trim to the same
 * text, so distinct trimmed ids are distinct keys. Rows without an id are rejected as such, whatever their repeats.
 */
function clickstreamKeysUnique(applications: readonly PlacedApplication[]): boolean {
  const keys = applications.flatMap((placed) =>
    placed.clickstream.flatMap(({ record, month }) => {
      const customer = record.Customer_ID?.trim();
      return customer ? [`${customer}|${month}`] : [];
    }),
  );
  return new Set(keys).size === keys.length;
}

const SPELLING_UNUSED: DateSpelling = 'YYYY-MM-DD'; // the silver SQL of attributes, financials, clickstream ignores it
/** Prepared queries kept per connection (two per shape: features and rejections); the current month is the one that matters. */
const MAX_PREPARED_SHAPES = 24;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The prepared queries' parameter holding a source's bronze rows (both queries take all four, at the same positions). */
const PARAMETER = Object.fromEntries(SOURCES.map((source, index) => [source, index + 1])) as Record<Source, number>;

interface Statements {
  /** The feature query, its row packed (packQuery: two list columns instead of 62). */
  features: DuckDBPreparedStatement;
  featureColumns: PackedQuery;
  rejected: DuckDBPreparedStatement;
}

type BronzeRows = Record<Source, Array<{ record: RawRecord; month: Month; owner: number }>>;

/** One connection and the queries prepared on it: computes one micro-batch at a time. */
class FeatureConnection {
  readonly #prepared = new Map<string, Statements>();

  constructor(private readonly db: DuckDBConnection) {}

  async compute(shape: Shape, applications: readonly PlacedApplication[]): Promise<OnlineFeatures[]> {
    const statements = await this.#statements(shape);
    const rows = bronzeRows(applications);
    const bronze = bronzeJson(rows);
    bindBronze(statements.features, bronze);
    const features = unpackRows(await statements.features.run(), statements.featureColumns);
    const byLoan = new Map(features.map((row) => [row.loan_id as string, row]));
    const missing = applications.some((placed) => !byLoan.has(placed.application.loan.loan_id?.trim() ?? ''));
    const rejectedOf = applications.map(() => [] as RejectedRecord[]);
    // Rejections only matter when an application gets no features; otherwise skip the second query.
    if (missing) {
      bindBronze(statements.rejected, bronze);
      for (const row of plainRows<{ source: Source; source_line: number; reason: string }>(await statements.rejected.runAndReadAll())) {
        rejectedOf[rows[row.source][row.source_line].owner].push({ source: row.source, reason: row.reason });
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

  async #statements(shape: Shape): Promise<Statements> {
    const key = `${shape.month}|${shape.loanSpelling}|${shape.clickstreamKeysUnique}`;
    let statements = this.#prepared.get(key);
    if (!statements) {
      if (this.#prepared.size >= MAX_PREPARED_SHAPES) {
        const [oldest, old] = this.#prepared.entries().next().value!;
        old.features.destroySync();
        old.rejected.destroySync();
        this.#prepared.delete(oldest);
      }
      const silver = (source: Source) => silverSql(source, shape);
      const accepted = (source: Source) => `(SELECT * EXCLUDE (reason) FROM (${silver(source)}) WHERE reason IS NULL)`;
      const featureSql = featureSelectFrom(
        { loans: accepted('loan_daily'), attributes: accepted('attributes'), financials: accepted('financials'), clickstream: accepted('clickstream') },
        // Rows are matched by loan_id below, and ranking a handful of clickstream rows costs less than the semi join.
        { orderByLoan: false, rankApplicantsOnly: false },
      );
      // Prepared as it is once, for its columns' names and types, then packed.
      const unpacked = await this.db.prepare(featureSql);
      const featureColumns = packQuery(featureSql, unpacked);
      unpacked.destroySync();
      statements = {
        features: await this.db.prepare(featureColumns.sql),
        featureColumns,
        rejected: await this.db.prepare(
          SOURCES.map((source) => `SELECT ${sqlString(source)} AS source, source_line, reason FROM (${silver(source)}) WHERE reason IS NOT NULL`).join('\nUNION ALL\n'),
        ),
      };
      this.#prepared.set(key, statements);
    }
    return statements;
  }

  close(): void {
    for (const statements of this.#prepared.values()) {
      statements.features.destroySync();
      statements.rejected.destroySync();
    }
    this.#prepared.clear();
    this.db.closeSync();
  }
}

/** The batch's records by source; a record's source_line is its index in its source's list. */
function bronzeRows(applications: readonly PlacedApplication[]): BronzeRows {
  const rows = Object.fromEntries(SOURCES.map((source) => [source, []])) as unknown as BronzeRows;
  applications.forEach((placed, owner) => {
    rows.loan_daily.push({ record: placed.application.loan, month: placed.month, owner });
    if (placed.application.attributes) rows.attributes.push({ record: placed.application.attributes, month: placed.month, owner });
    if (placed.application.financials) rows.financials.push({ record: placed.application.financials, month: placed.month, owner });
    for (const click of placed.clickstream) rows.clickstream.push({ ...click, owner });
  });
  return rows;
}

/**
 * The records as the queries' bronze parameters: per source a JSON array of the rows, each raw field as text (NULL for
 * an empty one, as the CSV reader reads it) with its source_line and month. One string per source: binding a DuckDB
 * value per field cost more than the feature query on batches of 64 (a JS object per value to collect).
 */
function bronzeJson(rows: BronzeRows): Record<Source, string> {
  // A lone UTF-16 surrogate is valid in a JS string, not in the JSON DuckDB reads: it would fail the whole batch.
  // U+FFFD instead, what a string bound to DuckDB directly becomes.
  const json = (source: Source) => {
    const columns = REQUIRED_COLUMNS[source];
    const bronze = rows[source].map(({ record, month }, line) => {
      const row: Record<string, string | number | null> = {};
      for (const column of columns) {
        const value = record[column];
        row[column] = value === null || value === undefined || value === '' ? null : value.replace(LONE_SURROGATE, '\ufffd');
      }
      row.source_line = line;
      row.online_snapshot_date = snapshotDate(month);
      return row;
    });
    return JSON.stringify(bronze);
  };
  return Object.fromEntries(SOURCES.map((source) => [source, json(source)])) as Record<Source, string>;
}

/** Binds a batch's bronze JSON (bronzeJson) to a prepared query's parameters, one per source. */
function bindBronze(statement: DuckDBPreparedStatement, bronze: Record<Source, string>): void {
  for (const source of SOURCES) statement.bindVarchar(PARAMETER[source], bronze[source]);
}

/**
 * Silver rows of one source for applications of `shape.month`, through the batch path's cleaning query over a
 * `bronze` of the batch's rows (the query's parameters, unnested): all of the application month, except
 * clickstream's, which span the lookback months and are cleaned each in its own month (cleanedSelect's monthColumn)
 * by one query rather than one per month.
 */
function silverSql(source: Source, shape: Shape): string {
  const rawColumns = REQUIRED_COLUMNS[source];
  const spelling = source === 'loan_daily' ? shape.loanSpelling : SPELLING_UNUSED;
  const context = { snapshotDate: snapshotDate(shape.month), dateSpelling: spelling };
  // A micro-batch holds one loan, attributes and financials row per application and no two applications share a
  // customer or loan (conflictKeys, checked in compute): their repeat checks cannot fire, nor clickstream's when its
  // keys are distinct (clickstreamKeysUnique). An application may repeat a clickstream month: then they run.
  const options =
    source === 'clickstream' ? { monthColumn: 'online_snapshot_date', keysUnique: shape.clickstreamKeysUnique } : { keysUnique: true };
  const rowType = JSON.stringify({
    ...Object.fromEntries(rawColumns.map((column) => [column, 'VARCHAR'])),
    source_line: 'BIGINT',
    online_snapshot_date: 'DATE',
  });
  // The parameter is typed: an untyped one makes DuckDB bind and plan the whole query again at every execution (3×
  // its cost).
  return `SELECT * FROM (
    WITH bronze AS (SELECT unnest(from_json($${PARAMETER[source]}::VARCHAR, ${sqlString(`[${rowType}]`)}), recursive := true))
    SELECT * FROM (${cleanedSelect(source, context, rawColumns, options)}))`;
}

/** Connections computing micro-batches at once (each runs one query at a time, on a thread of its own). */
export const DEFAULT_FEATURE_CONNECTIONS = 1;
/**
 * DuckDB threads for micro-batches of several applications. A feature query holds a few rows, but its plan has
 * independent pipelines (each source's cleaning, the materialized CTEs, the join sides) that a second thread can run
 * beside the caller's, for 8-30% more CPU per request: at 64 connections that CPU is throughput (2,870-3,181 against
 * 3,600-3,894 req/s in three alternating pairs, 2026-11-26 23:20 UTC). So batches run on one thread.
 */
export const DEFAULT_FEATURE_THREADS = 1;
/**
 * DuckDB threads for the features of a request alone on the server (no other request in flight): its wall time is
 * the latency and the other core is free. On a DuckDB of its own (threads are per database). Two against one, seven
 * alternating pairs of `tools/bench/serve.ts --connections 1` (2026-11-26 23:10-23:25 UTC): p99 6.4-8.6 against
 * 7.5-9.8 ms, lower in every pair (by 0.1-1.8 ms), p50 3.0-4.0 against 3.9-4.7 ms, for 12-35% more CPU per request.
 * Only when alone: with other requests in flight the second core has them to parse. At 10 connections, every batch of
 * one on two threads gave a p99 of 11.1-18.4 against 12.3-15.6 ms; only requests alone, 11.3-12.6 against 11.7-15.2 ms
 * (the max 43-49 against 15-30 ms: a request that was alone for a moment still takes both cores).
 */
export const DEFAULT_LONE_REQUEST_THREADS = 2;

/** An in-memory DuckDB with the cleaning macros, spilling (if ever) under `spillDirectory`. */
async function openFeatureDatabase(threads: number, spillDirectory: string): Promise<DuckDBInstance> {
  await mkdir(spillDirectory, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: duckdbSettings().memoryLimit, temp_directory: spillDirectory });
  const setup = await instance.connect();
  await defineCleaningMacros(setup);
  setup.closeSync();
  return instance;
}

async function openFeatureConnection(instance: DuckDBInstance): Promise<FeatureConnection> {
  const db = await instance.connect();
  // Optimizer passes that pay off on a month of rows cost more than they save on a handful, since most of an
  // execution here is setting up its operators and expressions (a vector of 2,048 values per expression node and
  // column, each regular expression compiled again), not running them: `in_clause` turns each `IN (list)` of the
  // cleaning macros into a hash join (built per execution); `cte_inlining` copies a CTE's expressions into every
  // use (financials' loan-type list, built with lambdas, was rebuilt in each of its uses; one financials row 11.5 →
  // 2.3 ms with both off); `filter_pushdown` copies each silver `reason` and the `installment_num = 0` test below
  // the projection that computes them, so their cleaning expressions are set up twice or three times;
  // `compressed_materialization` adds compress and decompress projections around each materialized CTE and join.
  // The same SQL gives the same rows (the parity test).
  await db.run(`SET disabled_optimizers = 'in_clause,cte_inlining,filter_pushdown,compressed_materialization'`);
  return new FeatureConnection(db);
}

/** The threads a DuckDB runs with, as DuckDB reports them. */
async function databaseThreads(instance: DuckDBInstance): Promise<number> {
  const db = await instance.connect();
  try {
    return Number((await db.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0][0]);
  } finally {
    db.closeSync();
  }
}

/** Which DuckDB computed a micro-batch's features (the lone-request one is absent when both would have the same threads). */
export type FeatureDatabase = 'micro_batches' | 'lone_request';

/** The DuckDB and connection reserved for a request alone on the server. */
interface LoneRequestLane {
  instance: DuckDBInstance;
  connection: FeatureConnection;
  busy: boolean;
}

export class OnlineFeatureStore {
  #closed = false;
  readonly #idle: FeatureConnection[];
  readonly #waiting: Array<(connection: FeatureConnection) => void> = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connections: FeatureConnection[],
    /** Absent when lone requests run on the batches' DuckDB (the same thread count). */
    private readonly lone: LoneRequestLane | undefined,
    private readonly spillDirectory: string,
    /** DuckDB's own thread counts: for micro-batches and for a lone request's. */
    readonly threads: { batches: number; loneRequests: number },
    private readonly onQuery: ((duckdb: FeatureDatabase) => void) | undefined,
  ) {
    this.#idle = [...connections];
  }

  /**
   * Features computed on up to `connections` micro-batches at once, on `threads` DuckDB threads; a lone request's
   * (compute's `alone`) on `loneRequestThreads`, its own DuckDB when the two differ, whenever that one is free.
   */
  static async open(
    options: { connections?: number; threads?: number; loneRequestThreads?: number; onQuery?: (duckdb: FeatureDatabase) => void } = {},
  ): Promise<OnlineFeatureStore> {
    const spillDirectory = join(tmpdir(), 'credit-pipeline-duckdb', randomUUID());
    const threads = options.threads ?? DEFAULT_FEATURE_THREADS;
    const loneThreads = options.loneRequestThreads ?? DEFAULT_LONE_REQUEST_THREADS;
    const instance = await openFeatureDatabase(threads, join(spillDirectory, 'batches'));
    const connections: FeatureConnection[] = [];
    for (let index = 0; index < (options.connections ?? DEFAULT_FEATURE_CONNECTIONS); index++) connections.push(await openFeatureConnection(instance));
    let lone: LoneRequestLane | undefined;
    if (loneThreads !== threads) {
      const loneInstance = await openFeatureDatabase(loneThreads, join(spillDirectory, 'lone-requests'));
      lone = { instance: loneInstance, connection: await openFeatureConnection(loneInstance), busy: false };
    }
    const threadCounts = { batches: await databaseThreads(instance), loneRequests: await databaseThreads(lone?.instance ?? instance) };
    return new OnlineFeatureStore(instance, connections, lone, spillDirectory, threadCounts, options.onQuery);
  }

  /**
   * Features (or the reason there are none) per application, in order. Up to `connections` calls run at once, and
   * one more for a request `alone` on the server, on the lone-request DuckDB (the batches' one while it is busy).
   */
  async compute(applications: readonly PlacedApplication[], options: { alone?: boolean } = {}): Promise<OnlineFeatures[]> {
    if (this.#closed) throw new Error('the online feature store is closed');
    const keys = applications.flatMap(conflictKeys);
    if (new Set(keys).size !== keys.length) throw new Error('applications of one micro-batch share a customer or loan (see conflictKeys)');
    const lone = options.alone && this.lone && !this.lone.busy ? this.lone : undefined;
    if (lone) lone.busy = true;
    this.onQuery?.(lone ? 'lone_request' : 'micro_batches');
    const connection = lone?.connection ?? this.#idle.pop() ?? (await new Promise<FeatureConnection>((resolve) => this.#waiting.push(resolve)));
    try {
      const results = new Array<OnlineFeatures>(applications.length);
      const shapes = new Map<string, number[]>();
      applications.forEach((placed, index) => {
        const key = `${placed.month}|${placed.loanSpelling}`;
        shapes.set(key, [...(shapes.get(key) ?? []), index]);
      });
      for (const indexes of shapes.values()) {
        const group = indexes.map((index) => applications[index]);
        const shape = { month: group[0].month, loanSpelling: group[0].loanSpelling, clickstreamKeysUnique: clickstreamKeysUnique(group) };
        const computed = await connection.compute(shape, group);
        indexes.forEach((index, k) => (results[index] = computed[k]));
      }
      return results;
    } finally {
      if (lone) lone.busy = false;
      else {
        const next = this.#waiting.shift();
        if (next) next(connection);
        else this.#idle.push(connection);
      }
    }
  }

  /** How many micro-batches may run at once. */
  get concurrency(): number {
    return this.connections.length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const connection of this.connections) connection.close();
    this.instance.closeSync();
    if (this.lone) {
      this.lone.connection.close();
      this.lone.instance.closeSync();
    }
    await rm(this.spillDirectory, { recursive: true, force: true });
  }
}
