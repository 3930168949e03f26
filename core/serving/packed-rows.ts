// A query's rows read as a few list columns instead of one column per field: its numbers as one DOUBLE[] per row, its
// texts (and dates, as 'YYYY-MM-DD') as one VARCHAR[], and only the columns of other types as themselves. Every column
// of a DuckDB result reaches JS as objects with native finalizers (its vector, its logical type, its buffers), and V8
// runs those finalizers inside its young-generation collections, on the event loop's thread. With the 62 columns of a
// feature row, one scavenge every ~150 single-application queries spent 5-14 ms on them (`--trace-gc`) while a request
// waited: the 1-connection p99. Packed, a row is two columns whatever its width; the values are the same
// (test/serving/packed-rows.test.ts).
import { DuckDBTypeId, JSDuckDBValueConverter, type DuckDBMaterializedResult, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { plainValue, sqlIdent, type Row } from '../duckdb.js';

/** Types whose every value a DOUBLE holds as plainRows gives it (a BIGINT rounds as Number(bigint) rounds it). */
const NUMERIC = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
]);
/** Types whose VARCHAR cast is plainRows' value: the text itself, a DATE's ISO day. */
const TEXTUAL = new Set([DuckDBTypeId.VARCHAR, DuckDBTypeId.DATE]);

interface PackedColumn {
  name: string;
  /** Which result column holds the value: 0 the numbers list, 1 the texts list, 2 and on a column of its own. */
  resultColumn: number;
  /** The value's position in its list (for the two lists). */
  position: number;
  /** The column's type name, for plainValue (columns of their own). */
  type: string;
}

export interface PackedQuery {
  /** The query, wrapped: `numbers`, `texts`, then the other columns. */
  sql: string;
  columns: PackedColumn[];
}

/** The packed form of `sql`, whose result columns are those of `prepared` (the same SQL, prepared). */
export function packQuery(sql: string, prepared: DuckDBPreparedStatement): PackedQuery {
  const numbers: string[] = [];
  const texts: string[] = [];
  const own: string[] = [];
  const columns: PackedColumn[] = [];
  for (let index = 0; index < prepared.columnCount; index++) {
    const name = prepared.columnName(index);
    const typeId = prepared.columnTypeId(index);
    const type = String(prepared.columnType(index));
    const column = `packed_source.${sqlIdent(name)}`;
    if (NUMERIC.has(typeId)) {
      columns.push({ name, resultColumn: 0, position: numbers.length, type });
      numbers.push(`CAST(${column} AS DOUBLE)`);
    } else if (TEXTUAL.has(typeId)) {
      columns.push({ name, resultColumn: 1, position: texts.length, type });
      texts.push(`CAST(${column} AS VARCHAR)`);
    } else {
      columns.push({ name, resultColumn: 2 + own.length, position: 0, type });
      own.push(column);
    }
  }
  const list = (values: string[], type: string) => (values.length ? `[${values.join(', ')}]` : `CAST([] AS ${type}[])`);
  const select = [`${list(numbers, 'DOUBLE')} AS numbers`, `${list(texts, 'VARCHAR')} AS texts`, ...own].join(', ');
  return { sql: `SELECT ${select} FROM (${sql}) AS packed_source`, columns };
}

/**
 * The rows of a packed query's result as plainRows would have read the unpacked query's: one object per row, in order.
 * Its chunks are taken from the materialized result as they are (getChunk), where a reader would fetch each, and then
 * the end, by a trip to libuv's pool and back (two of a single application's three).
 */
export function unpackRows<T extends Row = Row>(result: DuckDBMaterializedResult, query: PackedQuery): T[] {
  const rows: Array<Array<unknown>> = [];
  for (let index = 0; index < result.chunkCount; index++) rows.push(...result.getChunk(index).convertRows(JSDuckDBValueConverter));
  return rows.map((values) => {
    const row: Row = {};
    for (const column of query.columns) {
      row[column.name] =
        column.resultColumn < 2
          ? (values[column.resultColumn] as unknown[])[column.position]
          : plainValue(values[column.resultColumn], column.type);
    }
    return row as T;
  });
}
