// The physical floor: the whole job done set-based in one process, as a lower bound the pipeline is held against
// (issue 35). One DuckDB pass over the four CSVs for every month at once (typed and cleaned by the product's silver
// SQL and macros, labels by the product's label SQL, point-in-time features with the clickstream lookback as one ASOF
// join), the three families trained by libxgboost with the pipeline's parameters (core/models/families.ts, the same
// search and round budgets), one prediction pass over every month, one monitoring query (AUC and PSI per month).
// It does less than the pipeline (no partitions, lineage, quarantine files, ONNX, model bank, reason codes), so it is
// a bound, not a target to equal; checkAgainstPipeline keeps it honest: the same label and feature rows (count and
// content hash), the same families' AUCs.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { MODEL_FAMILIES, type ModelFamily } from '../../lib/contracts.js';
import { CLICKSTREAM_LOOKBACK, SOURCE_FILES, SOURCES, type Source } from '../../lib/layout.js';
import { addMonths, snapshotDate, type Month } from '../../lib/months.js';
import { selectBest } from '../../lib/model-selection.js';
import type { CandidateSummary } from '../../lib/model-summaries.js';
import { doubleVectorView, duckdbSettings, fillVector, queryRows, sqlIdent, sqlString } from '../../core/duckdb.js';
import { inspectSourceFile } from '../../core/etl/csv-header.js';
import { defineCleaningMacros } from '../../core/etl/cleaning-sql.js';
import { detectDateSpelling, STRPTIME_FORMAT, type DateSpelling } from '../../core/etl/date-spelling.js';
import { FEATURE_COLUMNS, FEATURE_SOURCES } from '../../core/etl/feature-store.js';
import { labelSelect } from '../../core/etl/label-store.js';
import { cleanedSelect } from '../../core/etl/silver.js';
import { SILVER_DEFINITIONS } from '../../core/etl/silver-sql.js';
import { REQUIRED_COLUMNS } from '../../core/etl/source-columns.js';
import { familyPlan } from '../../core/models/families.js';
import { threadsForNextRound } from '../../core/models/candidate-fit.js';
import { imputeInPlace, MAX_CATEGORIES, MIN_CATEGORY_COUNT, type Preprocessor, type PreprocessorFeature } from '../../core/features/preprocessor.js';
import { splitMonths, SPLITS, type LabelledMatrix, type Split } from '../../core/models/training-set.js';
import { auc } from '../../core/ranking-metrics.js';
import { numericBins, PROPORTION_FLOOR, DEFAULT_BIN_COUNT } from '../../core/statistics/drift.js';
import { withSharedMatrices, type Booster } from '../../core/xgboost/index.js';

export const PHYSICAL_FLOOR_STAGES = ['etl', 'training', 'scoring', 'monitoring'] as const;
export type FloorStage = (typeof PHYSICAL_FLOOR_STAGES)[number];

/** Count and content hash of a table's rows (over named columns, ordered by loan_id): what both sides must agree on. */
export interface TableFingerprint {
  rows: number;
  md5: string;
}

export interface PhysicalFloorResult {
  /** Wall seconds per stage and in all. */
  seconds: Record<FloorStage | 'total', number>;
  /** CPU seconds of this process (all its threads) per stage and in all. */
  cpuSeconds: Record<FloorStage | 'total', number>;
  /** Source rows of the months from..to (the pipeline's bronze rows; the clickstream lookback months before are read too). */
  bronzeRows: number;
  labels: TableFingerprint;
  features: TableFingerprint;
  asOf: Month | null;
  /** Test and OOT AUC of each family's best parameter set; the family the pipeline's rule picks. */
  families: Partial<Record<ModelFamily, { testAuc: number; ootAuc: number }>>;
  chosen: ModelFamily | null;
  scoredRows: number;
  /** Per application month: rows scored, AUC where labelled (null: no labels or one class), PSI against the OOT deciles. */
  monitoring: Array<{ month: Month; scored: number; auc: number | null; psi: number }>;
}

/** The label store's columns, as labelSelect gives them (fingerprinted on both sides). */
export const LABEL_COLUMNS = ['loan_id', 'Customer_ID', 'application_date', 'snapshot_date', 'dpd', 'label', 'label_def'] as const;
/** The feature store's columns: its keys, then FEATURE_COLUMNS. */
export const FEATURE_STORE_COLUMNS = ['loan_id', 'Customer_ID', 'snapshot_date', ...FEATURE_COLUMNS.map((column) => column.name)];

/** The fingerprint SQL of a relation: the same on the floor's tables and on the pipeline's gold Parquet. */
export function fingerprintSql(relation: string, columns: readonly string[]): string {
  const list = columns.map(sqlIdent).join(', ');
  return `SELECT count(*)::BIGINT AS rows, coalesce(md5(string_agg(CAST(row(${list}) AS VARCHAR), chr(10) ORDER BY loan_id, snapshot_date)), '') AS md5
    FROM ${relation}`;
}

async function fingerprint(db: DuckDBConnection, relation: string, columns: readonly string[]): Promise<TableFingerprint> {
  const [row] = await queryRows<{ rows: number; md5: string }>(db, fingerprintSql(relation, columns));
  return { rows: Number(row.rows), md5: row.md5 };
}

/** A stopwatch of wall and process CPU seconds per stage. */
function stageClock() {
  const started = performance.now();
  const startedCpu = process.cpuUsage();
  let wallMark = started;
  let cpuMark = startedCpu;
  const seconds = {} as Record<FloorStage | 'total', number>;
  const cpuSeconds = {} as Record<FloorStage | 'total', number>;
  const cpuOf = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1e6;
  };
  return {
    lap(stage: FloorStage) {
      const now = performance.now();
      seconds[stage] = (now - wallMark) / 1000;
      cpuSeconds[stage] = cpuOf(cpuMark);
      wallMark = now;
      cpuMark = process.cpuUsage();
    },
    done() {
      seconds.total = (performance.now() - started) / 1000;
      cpuSeconds.total = cpuOf(startedCpu);
      return { seconds, cpuSeconds };
    },
  };
}

/** The date literal loan_daily's silver SELECT is asked for, replaced by each row's own month (set-based). */
const ROW_MONTH_SENTINEL = '1900-01-01';

/**
 * ETL of every month at once: each CSV read once into memory (text, as staging reads it), typed and cleaned by the
 * silver SQL with each row's own month, then the label rows and the feature rows of every month in one query each.
 * Leaves tables silver_<source>, labels and features.
 */
async function etl(db: DuckDBConnection, sourceDir: string, from: Month, to: Month): Promise<number> {
  await defineCleaningMacros(db);
  let bronzeRows = 0;
  for (const source of SOURCES) {
    const path = join(sourceDir, SOURCE_FILES[source]);
    const { columns } = await inspectSourceFile(path, REQUIRED_COLUMNS[source]);
    const schema = `{${columns.map((column) => `${sqlString(column)}: 'VARCHAR'`).join(', ')}}`;
    await db.run(
      `CREATE TABLE raw_${source} AS SELECT * REPLACE (trim(snapshot_date) AS snapshot_date)
       FROM read_csv(${sqlString(path)}, columns = ${schema}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true)`,
    );
    const values = await queryRows<{ value: string; line: number }>(
      db,
      `SELECT snapshot_date AS value, min(rowid) + 2 AS line FROM raw_${source} WHERE snapshot_date IS NOT NULL AND snapshot_date <> '' GROUP BY 1`,
    );
    const spelling = detectDateSpelling(values.map((v) => ({ value: v.value, line: Number(v.line) })), path);
    // The months the pipeline ingests: from..to, and for clickstream the lookback months before `from` too.
    const first = source === 'clickstream' ? addMonths(from, -CLICKSTREAM_LOOKBACK) : from;
    await db.run(`CREATE OR REPLACE VIEW bronze AS
      SELECT * FROM (
        SELECT raw.*, raw.rowid + 2 AS source_line, CAST(try_strptime(raw.snapshot_date, ${sqlString(STRPTIME_FORMAT[spelling])}) AS DATE) AS row_month
        FROM raw_${source} AS raw)
      WHERE row_month BETWEEN DATE ${sqlString(snapshotDate(first))} AND DATE ${sqlString(snapshotDate(to))}`);
    // Counted as the pipeline counts its months' bronze: the lookback months before `from` are read, not counted.
    const [{ n }] = await queryRows<{ n: number }>(db, `SELECT count(*)::BIGINT AS n FROM bronze WHERE row_month >= DATE ${sqlString(snapshotDate(from))}`);
    bronzeRows += Number(n);
    const context = { snapshotDate: ROW_MONTH_SENTINEL, dateSpelling: spelling };
    await db.run(`CREATE TABLE silver_${source} AS ${silverOfAllMonths(source, context, columns)}`);
  }
  await db.run(`CREATE TABLE labels AS ${labelSelect(`(SELECT * FROM silver_loan_daily WHERE snapshot_date BETWEEN DATE ${sqlString(snapshotDate(from))} AND DATE ${sqlString(snapshotDate(to))})`)}`);
  await db.run(`CREATE TABLE features AS ${featuresOfAllMonths(from, to)}`);
  return bronzeRows;
}

/**
 * The accepted silver rows of every month of a source in one query. Three sources clean across months through
 * cleanedSelect's own month column; loan_daily's SELECT checks its dates against the month, so the month literal is
 * replaced by each row's month, and repeats of its keys within a month keep their first line (the pipeline rejects
 * conflicting repeats, which the check against its gold would show).
 */
function silverOfAllMonths(source: Source, context: { snapshotDate: string; dateSpelling: DateSpelling }, rawColumns: string[]): string {
  if (source !== 'loan_daily') {
    return `SELECT * EXCLUDE (reason) FROM (${cleanedSelect(source, context, rawColumns, { monthColumn: 'row_month' })}) WHERE reason IS NULL`;
  }
  const definition = SILVER_DEFINITIONS.loan_daily;
  const literal = `DATE ${sqlString(ROW_MONTH_SENTINEL)}`;
  const monthly = definition.select(context);
  if (!monthly.includes(literal)) throw new Error(`loan_daily's silver SELECT no longer spells its month as ${literal}: the floor cannot run it per row`);
  const select = monthly.replaceAll(literal, 'row_month');
  const keys = [...definition.keys, 'snapshot_date'].map(sqlIdent).join(', ');
  return `SELECT * EXCLUDE (row_problem) FROM (${select})
    WHERE row_problem IS NULL AND ${definition.keys.map((key) => `${sqlIdent(key)} IS NOT NULL`).join(' AND ')}
    QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY source_line) = 1`;
}

/**
 * The feature store of every application month: the application rows (installment 0), that month's attributes and
 * financials, and the customer's latest clickstream row within the lookback months.
 */
function featuresOfAllMonths(from: Month, to: Month): string {
  const alias: Record<Source, string> = { loan_daily: 'app', attributes: 'attr', financials: 'fin', clickstream: 'click' };
  const columns = FEATURE_COLUMNS.map(({ name, type }) =>
    name === 'clickstream_months_since'
      ? `CAST(date_diff('month', click.snapshot_date, app.snapshot_date) AS DOUBLE) AS clickstream_months_since`
      : `CAST(${alias[FEATURE_SOURCES[name]]}.${sqlIdent(name)} AS ${type}) AS ${sqlIdent(name)}`,
  );
  return `
    WITH app AS (
      SELECT loan_id, Customer_ID, snapshot_date, loan_amt, tenure FROM silver_loan_daily
      WHERE installment_num = 0 AND snapshot_date BETWEEN DATE ${sqlString(snapshotDate(from))} AND DATE ${sqlString(snapshotDate(to))}
    ), latest_click AS (
      -- Each application's latest clickstream row of the lookback months (ties: the first line), by a hash join on the
      -- customer: an ASOF join of every application against every clickstream row took 93 s at 10 × the real data.
      SELECT app.loan_id, click.*
      FROM app JOIN silver_clickstream AS click ON click.Customer_ID = app.Customer_ID
        AND click.snapshot_date BETWEEN app.snapshot_date - INTERVAL ${CLICKSTREAM_LOOKBACK} MONTH AND app.snapshot_date
      QUALIFY row_number() OVER (PARTITION BY app.loan_id ORDER BY click.snapshot_date DESC, click.source_line) = 1
    )
    SELECT app.loan_id, app.Customer_ID, app.snapshot_date, ${columns.join(', ')}
    FROM app
    LEFT JOIN silver_attributes AS attr ON attr.Customer_ID = app.Customer_ID AND attr.snapshot_date = app.snapshot_date
    LEFT JOIN silver_financials AS fin ON fin.Customer_ID = app.Customer_ID AND fin.snapshot_date = app.snapshot_date
    LEFT JOIN latest_click AS click ON click.loan_id = app.loan_id`;
}

interface EncodedRows extends LabelledMatrix {
  /** Application month of each row (rows ordered by month, then loan_id). */
  months: Month[];
}

/**
 * The preprocessor the pipeline fits (core/models/preprocessor.ts: train-month medians, the frequent categories one-hot
 * encoded, features without a category left out), fitted by aggregate queries over the train months' rows.
 */
async function fitPreprocessorInSql(db: DuckDBConnection, trainRows: string): Promise<Preprocessor> {
  const numeric = FEATURE_COLUMNS.filter((column) => column.type === 'DOUBLE').map((column) => column.name);
  const categorical = FEATURE_COLUMNS.filter((column) => column.type === 'VARCHAR').map((column) => column.name);
  const [medians] = await queryRows<Record<string, number | null>>(
    db,
    `SELECT ${numeric.map((name, i) => `coalesce(median(${sqlIdent(name)}) FILTER (WHERE isfinite(${sqlIdent(name)})), 0)::DOUBLE AS m${i}`).join(', ')} FROM ${trainRows}`,
  );
  const categoryRows = await queryRows<{ feature: string; category: string }>(
    db,
    categorical
      .map(
        (name) => `SELECT * FROM (SELECT ${sqlString(name)} AS feature, ${sqlIdent(name)} AS category FROM ${trainRows}
          WHERE ${sqlIdent(name)} IS NOT NULL GROUP BY 2 HAVING count(*) >= ${MIN_CATEGORY_COUNT}
          ORDER BY count(*) DESC, 2 LIMIT ${MAX_CATEGORIES})`,
      )
      .join(' UNION ALL '),
  );
  const features: PreprocessorFeature[] = FEATURE_COLUMNS.flatMap(({ name, type }): PreprocessorFeature[] => {
    if (type === 'DOUBLE') return [{ name, kind: 'numeric', impute: Number(medians[`m${numeric.indexOf(name)}`]) }];
    const categories = categoryRows.filter((row) => row.feature === name).map((row) => row.category).sort();
    return categories.length > 0 ? [{ name, kind: 'categorical', categories }] : [];
  });
  const encoded = features.flatMap((f) => (f.kind === 'numeric' ? [f.name] : f.categories.map((category) => `${f.name}=${category}`)));
  return { version: 1, missing: 'native', features, encoded };
}

/**
 * Every feature row (all months) encoded as the preprocessor says, in one query read chunk by chunk into one row-major
 * Float32Array (NaN: missing), with its label (NaN: none mature by `asOf`) and month.
 */
async function encodeAllRows(db: DuckDBConnection, preprocessor: Preprocessor, asOf: Month): Promise<EncodedRows> {
  const cells = preprocessor.features.flatMap((feature) =>
    feature.kind === 'numeric'
      ? [`coalesce(CAST(f.${sqlIdent(feature.name)} AS DOUBLE), 'NaN'::DOUBLE)`]
      : feature.categories.map((category) => `CAST(coalesce(f.${sqlIdent(feature.name)} = ${sqlString(category)}, false) AS DOUBLE)`),
  );
  const cols = cells.length;
  const [{ n }] = await queryRows<{ n: number }>(db, 'SELECT count(*)::BIGINT AS n FROM features');
  const rows = Number(n);
  // Streamed (no other query on the connection until it is read): the whole result never sits in DuckDB twice.
  const result = await db.stream(`
    SELECT strftime(f.snapshot_date, '%Y-%m') AS month, coalesce(CAST(l.label AS DOUBLE), 'NaN'::DOUBLE) AS label, ${cells.map((cell, i) => `${cell} AS c${i}`).join(', ')}
    FROM features AS f LEFT JOIN (SELECT loan_id, label FROM labels WHERE snapshot_date <= DATE ${sqlString(snapshotDate(asOf))}) AS l USING (loan_id)
    ORDER BY f.snapshot_date, f.loan_id`);
  const data = new Float32Array(rows * cols);
  const labels = new Float32Array(rows);
  const months: Month[] = [];
  let offset = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const size = chunk.rowCount;
    const monthVector = chunk.getColumnVector(0);
    for (let r = 0; r < size; r++) months.push(monthVector.getItem(r) as Month);
    labels.set(doubleVectorView(chunk, 1), offset);
    for (let c = 0; c < cols; c++) {
      const column = doubleVectorView(chunk, c + 2);
      for (let r = 0, cell = offset * cols + c; r < size; r++, cell += cols) data[cell] = column[r];
    }
    offset += size;
  }
  return { data, rows, cols, labels, months };
}

/** The labelled rows of some months (copied out of the whole matrix). */
function labelledRowsOf(all: EncodedRows, months: readonly Month[]): LabelledMatrix {
  const wanted = new Set(months);
  const picked: number[] = [];
  for (let row = 0; row < all.rows; row++) if (wanted.has(all.months[row]) && !Number.isNaN(all.labels[row])) picked.push(row);
  const data = new Float32Array(picked.length * all.cols);
  const labels = new Float32Array(picked.length);
  picked.forEach((row, i) => {
    data.set(all.data.subarray(row * all.cols, (row + 1) * all.cols), i * all.cols);
    labels[i] = all.labels[row];
  });
  return { data, rows: picked.length, cols: all.cols, labels };
}

/** Each family's parameter search as the pipeline runs it (fitCandidate), without what it adds after the fit. */
function trainFamilies(splits: Record<Split, LabelledMatrix>, preprocessor: Preprocessor) {
  const positives = splits.train.labels.reduce((sum, label) => sum + label, 0);
  const scalePosWeight = (splits.train.rows - positives) / positives;
  const imputed = (matrix: LabelledMatrix): LabelledMatrix => {
    const data = Float32Array.from(matrix.data);
    imputeInPlace({ ...preprocessor, missing: 'impute' }, data);
    return { ...matrix, data };
  };
  const results = {} as Record<ModelFamily, { booster: Booster; testAuc: number; ootAuc: number; missing: Preprocessor['missing'] }>;
  const fitFamily = (family: ModelFamily, train: LabelledMatrix, test: LabelledMatrix) =>
    withSharedMatrices(train, test, (fit) => {
      const plan = familyPlan(family);
      let best: { booster: Booster; testAuc: number } | undefined;
      for (const candidateParams of plan.search) {
        const result = fit({
          params: { ...candidateParams, scale_pos_weight: scalePosWeight },
          rounds: plan.rounds,
          earlyStoppingRounds: plan.earlyStoppingRounds,
          threadsForNextRound: threadsForNextRound(candidateParams, plan),
        });
        const testAuc = result.bestValidationAuc ?? auc(result.booster.predict(test), test.labels) ?? 0;
        if (!best || testAuc > best.testAuc) {
          best?.booster.dispose();
          best = { booster: result.booster, testAuc };
        } else result.booster.dispose();
      }
      return { ...best!, missing: plan.missing };
    });
  for (const family of MODEL_FAMILIES) {
    const missing = familyPlan(family).missing;
    const split = missing === 'impute' ? Object.fromEntries(SPLITS.map((s) => [s, imputed(splits[s])])) as Record<Split, LabelledMatrix> : splits;
    const fitted = fitFamily(family, split.train, split.test);
    const ootAuc = auc(fitted.booster.predict(split.oot), split.oot.labels) ?? Number.NaN;
    results[family] = { ...fitted, ootAuc };
  }
  return results;
}

/**
 * One query over every scored row: AUC per month (mid-ranks, where labelled) and PSI per month against the OOT score
 * deciles (the baseline the pipeline stores, right-closed bins, proportions floored as core/monitoring/drift.ts does).
 */
async function monitor(db: DuckDBConnection, all: EncodedRows, scores: Float32Array, ootScores: Float32Array): Promise<PhysicalFloorResult['monitoring']> {
  const baseline = numericBins(Array.from(ootScores), DEFAULT_BIN_COUNT, false);
  await db.run('CREATE TABLE scored (month BIGINT, label DOUBLE, score DOUBLE)');
  const monthNumbers = BigInt64Array.from(all.months, (month) => BigInt(Number(month.replace('-', ''))));
  const appender = await db.createAppender('scored');
  for (let start = 0; start < all.rows; start += 2048) {
    const end = Math.min(start + 2048, all.rows);
    const chunk = DuckDBDataChunk.create([BIGINT, DOUBLE, DOUBLE], end - start);
    fillVector(chunk, 0, monthNumbers.subarray(start, end));
    fillVector(chunk, 1, Float64Array.from(all.labels.subarray(start, end)));
    fillVector(chunk, 2, Float64Array.from(scores.subarray(start, end)));
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
  appender.closeSync();
  const edges = `[${baseline.edges.map((edge) => `${edge}::DOUBLE`).join(', ')}]::DOUBLE[]`;
  const expected = `[${baseline.expected.map((p) => `${p}::DOUBLE`).join(', ')}]::DOUBLE[]`;
  const floor = `${PROPORTION_FLOOR}::DOUBLE`;
  const rows = await queryRows<{ month: number; scored: number; auc: number | null; psi: number }>(
    db,
    `WITH binned AS (
       SELECT month, label, score, len(list_filter(${edges}, e -> score > e)) AS bin FROM scored
     ), months AS (
       SELECT month, count(*) AS scored FROM binned GROUP BY month
     ), proportions AS (
       SELECT months.month, coalesce(counts.n, 0) / months.scored AS actual, (${expected})[b.i + 1] AS expected
       FROM months CROSS JOIN range(${baseline.expected.length}) AS b(i)
       LEFT JOIN (SELECT month, bin, count(*) AS n FROM binned GROUP BY ALL) AS counts ON counts.month = months.month AND counts.bin = b.i
     ), psi AS (
       SELECT month, sum((greatest(actual, ${floor}) - greatest(expected, ${floor})) * ln(greatest(actual, ${floor}) / greatest(expected, ${floor}))) AS psi
       FROM proportions GROUP BY month
     ), ranked AS (
       -- Mann-Whitney on mid-ranks: ties share their mean rank.
       SELECT month, label, rank() OVER (PARTITION BY month ORDER BY score) + (count(*) OVER (PARTITION BY month, score) - 1) / 2.0 AS mid_rank
       FROM binned WHERE NOT isnan(label)
     ), performance AS (
       SELECT month, count(*) FILTER (WHERE label = 1) AS pos, count(*) FILTER (WHERE label = 0) AS neg, sum(mid_rank) FILTER (WHERE label = 1) AS rank_sum
       FROM ranked GROUP BY month
     )
     SELECT months.month, months.scored::BIGINT AS scored,
       CASE WHEN p.pos > 0 AND p.neg > 0 THEN (p.rank_sum - p.pos * (p.pos + 1) / 2.0) / (p.pos * p.neg) END AS auc, psi.psi
     FROM months JOIN psi USING (month) LEFT JOIN performance AS p USING (month)
     ORDER BY months.month`,
  );
  return rows.map((row) => {
    const month = String(row.month);
    return { month: `${month.slice(0, 4)}-${month.slice(4)}` as Month, scored: Number(row.scored), auc: row.auc === null ? null : Number(row.auc), psi: Number(row.psi) };
  });
}

export interface PhysicalFloorOptions {
  sourceDir: string;
  from: Month;
  to: Month;
  /** TRAINING_WINDOW_MONTHS: only the most recent labelled months (0: all). */
  trainingWindowMonths?: number;
  /** Also fingerprint the label and feature rows (checkAgainstPipeline needs them; outside the timed stages). */
  fingerprints?: boolean;
}

export async function runPhysicalFloor(options: PhysicalFloorOptions): Promise<PhysicalFloorResult> {
  const { sourceDir, from, to, trainingWindowMonths = 0 } = options;
  const spill = await mkdtemp(join(tmpdir(), 'physical-floor-'));
  const settings = duckdbSettings();
  const instance = await DuckDBInstance.create(':memory:', { threads: String(settings.threads ?? availableParallelism()), memory_limit: settings.memoryLimit, temp_directory: spill });
  const db = await instance.connect();
  try {
    const clock = stageClock();
    const bronzeRows = await etl(db, sourceDir, from, to);
    clock.lap('etl');

    // Training as the pipeline does it as of the latest month with labels: the application months with mature
    // labels (and features), split by time, the preprocessor fitted on the train months.
    const labelMonths = await queryRows<{ month: string }>(db, `SELECT DISTINCT strftime(snapshot_date, '%Y-%m') AS month FROM labels ORDER BY 1`);
    const asOf = (labelMonths.at(-1)?.month ?? null) as Month | null;
    const families: PhysicalFloorResult['families'] = {};
    let chosen: ModelFamily | null = null;
    let monitoring: PhysicalFloorResult['monitoring'] = [];
    let scoredRows = 0;
    if (asOf) {
      const applicationMonths = (
        await queryRows<{ month: string }>(
          db,
          `SELECT DISTINCT strftime(application_date, '%Y-%m') AS month FROM labels
           WHERE strftime(application_date, '%Y-%m') IN (SELECT DISTINCT strftime(snapshot_date, '%Y-%m') FROM features) ORDER BY 1`,
        )
      ).map((row) => row.month as Month);
      const months = applicationMonths.slice(trainingWindowMonths > 0 ? -trainingWindowMonths : 0);
      const byMonth = splitMonths(months, 2, 2);
      const trainRows = `(SELECT f.* FROM features AS f JOIN labels AS l USING (loan_id)
        WHERE strftime(f.snapshot_date, '%Y-%m') IN (${byMonth.train.map(sqlString).join(', ')}))`;
      const preprocessor = await fitPreprocessorInSql(db, trainRows);
      const all = await encodeAllRows(db, preprocessor, asOf);
      const splits = Object.fromEntries(SPLITS.map((split) => [split, labelledRowsOf(all, byMonth[split])])) as Record<Split, LabelledMatrix>;
      const fitted = trainFamilies(splits, preprocessor);
      for (const family of MODEL_FAMILIES) families[family] = { testAuc: fitted[family].testAuc, ootAuc: fitted[family].ootAuc };
      chosen = selectBest(MODEL_FAMILIES.map((family) => ({ family, metrics: { test_auc: fitted[family].testAuc } }) as unknown as CandidateSummary)).family;
      const best = fitted[chosen];
      clock.lap('training');

      let scoring = all as EncodedRows;
      if (best.missing === 'impute') {
        const data = Float32Array.from(all.data);
        imputeInPlace({ ...preprocessor, missing: 'impute' }, data);
        scoring = { ...all, data };
      }
      const scores = best.booster.predict({ data: scoring.data, rows: scoring.rows, cols: scoring.cols });
      scoredRows = scores.length;
      const ootSplit = best.missing === 'impute' ? labelledRowsOf(scoring, byMonth.oot) : splits.oot;
      const ootScores = best.booster.predict(ootSplit);
      for (const family of MODEL_FAMILIES) fitted[family].booster.dispose();
      clock.lap('scoring');

      monitoring = await monitor(db, all, scores, ootScores);
      clock.lap('monitoring');
    } else {
      for (const stage of ['training', 'scoring', 'monitoring'] as const) clock.lap(stage);
    }
    const { seconds, cpuSeconds } = clock.done();
    const withFingerprints = options.fingerprints ?? true;
    return {
      seconds,
      cpuSeconds,
      bronzeRows,
      labels: withFingerprints ? await fingerprint(db, 'labels', LABEL_COLUMNS) : { rows: -1, md5: '' },
      features: withFingerprints ? await fingerprint(db, 'features', FEATURE_STORE_COLUMNS) : { rows: -1, md5: '' },
      asOf,
      families,
      chosen,
      scoredRows,
      monitoring,
    };
  } finally {
    db.closeSync();
    instance.closeSync();
    await rm(spill, { recursive: true, force: true });
  }
}
