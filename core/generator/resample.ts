// Real-shaped data at any size: a folder of the four source CSVs replicated `factor` times, each replica's customers
// under new ids (CUS_0x<replica-prefix><original hex>, loan ids alike), every other byte of every row as it was, dirt
// included. Replica 0 is the original. Used by `npm run bench -- --source DIR --scale S`.
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { SOURCE_FILES, SOURCES } from '../../lib/layout.js';
import { queryValue, sqlIdent, sqlString, withDuckDB } from '../duckdb.js';
import { inspectSourceFile } from '../etl/csv-header.js';
import { REQUIRED_COLUMNS } from '../etl/source-columns.js';

/** Columns that carry a customer id (loan ids embed it). */
const ID_COLUMNS = ['Customer_ID', 'loan_id'];

/** Customers in a source folder: distinct ids of its attributes file. */
export async function countCustomers(sourceDir: string): Promise<number> {
  const file = join(sourceDir, SOURCE_FILES.attributes);
  return withDuckDB((db) =>
    queryValue<number>(db, `SELECT count(DISTINCT Customer_ID) FROM read_csv(${sqlString(file)}, all_varchar = true, header = true)`),
  );
}

export async function resampleSources(options: { source: string; out: string; factor: number }): Promise<{ files: string[] }> {
  const { source, out, factor } = options;
  if (!Number.isInteger(factor) || factor < 1 || factor > 4096) throw new Error(`resample factor must be a whole number from 1 to 4096, got ${factor}`);
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  for (const name of SOURCES) {
    const input = await inspectSourceFile(join(source, SOURCE_FILES[name]), REQUIRED_COLUMNS[name]);
    const destination = join(out, SOURCE_FILES[name]);
    const columns = input.columns.map((column) =>
      ID_COLUMNS.includes(column)
        ? `CASE WHEN replica = 0 THEN ${sqlIdent(column)} ELSE replace(${sqlIdent(column)}, 'CUS_0x', 'CUS_0x' || printf('f%03x', replica)) END AS ${sqlIdent(column)}`
        : sqlIdent(column),
    );
    const schema = `{${input.columns.map((column) => `${sqlString(column)}: 'VARCHAR'`).join(', ')}}`;
    const temporary = `${destination}.tmp`;
    await withDuckDB(async (db) => {
      // A table keeps the file's row order in rowid; the replicas then come out in blocks, each in file order.
      await db.run(
        `CREATE TABLE raw AS SELECT * FROM read_csv(${sqlString(input.path)}, columns = ${schema}, header = true,
           auto_detect = false, delim = ',', quote = '"', escape = '"')`,
      );
      await db.run(
        `COPY (SELECT ${columns.join(', ')} FROM raw, range(${factor}) AS replicas(replica) ORDER BY replica, raw.rowid)
         TO ${sqlString(temporary)} (FORMAT csv, HEADER true)`,
      );
    });
    await rename(temporary, destination);
    files.push(destination);
  }
  return { files };
}
