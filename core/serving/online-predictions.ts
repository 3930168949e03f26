// Online scores appended to gold/predictions_online/snapshot_date=<application month>/part-<time>-<id>.parquet:
// buffered in memory, written every `flushRows` rows or `flushSeconds` seconds and at shutdown, one file per month
// per flush, atomically (temp file + rename). Columns: the batch predictions' (SPEC §3) plus requested_at, so
// monitoring can compare online and batch score distributions of the same month and model.
import { randomUUID } from 'node:crypto';
import { datamart, partitionDir } from '../../lib/layout.js';
import { snapshotDate, type Month } from '../../lib/months.js';
import { withDuckDB, writeParquetAtomic } from '../duckdb.js';
import type { RiskBand } from '../scoring/risk-bands.js';

export interface OnlinePrediction {
  loanId: string;
  customerId: string;
  month: Month;
  modelId: string;
  probability: number;
  predictedDefault: 0 | 1;
  riskBand: RiskBand;
  requestedAt: Date;
  scoredAt: Date;
}

export function onlinePredictionsGlob(datamartDir: string, month: Month): string {
  return `${partitionDir(datamart.predictionsOnline(datamartDir), month)}/*.parquet`;
}

export class OnlinePredictionSink {
  #buffer: OnlinePrediction[] = [];
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly datamartDir: string,
    private readonly options: { flushRows: number; flushSeconds: number; onError: (error: unknown) => void },
  ) {
    this.#timer = setInterval(() => void this.flush(), options.flushSeconds * 1000);
    this.#timer.unref();
  }

  append(prediction: OnlinePrediction): void {
    this.#buffer.push(prediction);
    if (this.#buffer.length >= this.options.flushRows) void this.flush();
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  /** Writes what is buffered; flushes run one after the other. A failed write keeps its rows for the next flush. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const rows = this.#buffer;
      if (rows.length === 0) return;
      this.#buffer = [];
      try {
        await writeOnlinePredictions(this.datamartDir, rows);
      } catch (error) {
        this.#buffer = rows.concat(this.#buffer);
        this.options.onError(error);
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

/** Writes one new Parquet file per application month of `rows`; returns their paths. */
export async function writeOnlinePredictions(datamartDir: string, rows: readonly OnlinePrediction[]): Promise<string[]> {
  const byMonth = new Map<Month, OnlinePrediction[]>();
  for (const row of rows) {
    const monthRows = byMonth.get(row.month);
    if (monthRows) monthRows.push(row);
    else byMonth.set(row.month, [row]);
  }
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  return withDuckDB(async (db) => {
    await db.run(`CREATE TABLE online (loan_id VARCHAR, Customer_ID VARCHAR, snapshot_date DATE, model_id VARCHAR,
      default_probability DOUBLE, predicted_default INTEGER, risk_band VARCHAR, requested_at TIMESTAMP, scored_at TIMESTAMP)`);
    const paths: string[] = [];
    for (const [month, monthRows] of byMonth) {
      await db.run('DELETE FROM online');
      const appender = await db.createAppender('online');
      for (const row of monthRows) {
        appender.appendVarchar(row.loanId);
        appender.appendVarchar(row.customerId);
        appender.appendVarchar(snapshotDate(month));
        appender.appendVarchar(row.modelId);
        appender.appendDouble(row.probability);
        appender.appendInteger(row.predictedDefault);
        appender.appendVarchar(row.riskBand);
        appender.appendVarchar(row.requestedAt.toISOString());
        appender.appendVarchar(row.scoredAt.toISOString());
        appender.endRow();
      }
      appender.closeSync();
      const path = `${partitionDir(datamart.predictionsOnline(datamartDir), month)}/part-${stamp}-${randomUUID().slice(0, 8)}.parquet`;
      await writeParquetAtomic(db, `SELECT * FROM online ORDER BY requested_at, loan_id`, path);
      paths.push(path);
    }
    return paths;
  });
}
