// DuckDB macros the silver SQL is written in: one definition of "placeholder", "number" and "in range", so every
// source is cleaned by the same rules. Numbers must look like numbers (after stripping trailing '_'): TRY_CAST alone
// would accept 'inf', '1e400' or ' 12 ' and silently make numbers out of dirt. A value that is already clean (most are)
// is recognised by a full match, cheaper than extracting a group from it (the batch clickstream cleaning's main cost);
// anything else takes the extracting pattern, so both give the same value. The extracted text is read once: a NULL
// for no match comes from TRY_CAST of '' (the extracted group is a plain number or '') or from the first of no
// matches, not from nullif(), which would run the pattern twice. A macro's body is copied into every use, and online
// scoring (core/serving) sets up every copy of every pattern again at each execution of its query on a few rows.
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../duckdb.js';
import { PLACEHOLDERS } from './source-columns.js';

/** Connections that hold the macros as temporary ones (scope 'connection'), so they are defined once on each. */
const connectionsWithMacros = new WeakSet<DuckDBConnection>();

/**
 * Defines the macros in the connection's current catalog (`catalog`: seen by every connection of an in-memory
 * database, as the scoring API's setup connection needs), or as temporary macros of this connection, once
 * (`connection`: a month's ETL session runs its four silver steps on one connection, each in a scratch catalog of its
 * own, and the catalog's temporary tables and views dropped between steps are not macros).
 */
export async function defineCleaningMacros(db: DuckDBConnection, scope: 'catalog' | 'connection' = 'catalog'): Promise<void> {
  if (scope === 'connection' && connectionsWithMacros.has(db)) return;
  const placeholders = PLACEHOLDERS.map(sqlString).join(', ');
  const create = scope === 'connection' ? 'CREATE OR REPLACE TEMP MACRO' : 'CREATE OR REPLACE MACRO';
  await db.run(`
    ${create} etl_text(x) AS
      CASE WHEN x IS NULL OR trim(x) IN (${placeholders}) OR regexp_full_match(trim(x), '_+') THEN NULL ELSE trim(x) END;
    ${create} etl_num(x) AS CASE WHEN regexp_full_match(x, '-?[0-9]+(\\.[0-9]+)?') THEN CAST(x AS DOUBLE)
      ELSE TRY_CAST(regexp_extract(x, '^\\s*(-?[0-9]+(\\.[0-9]+)?)_*\\s*$', 1) AS DOUBLE) END;
    ${create} etl_int(x) AS CASE WHEN regexp_full_match(x, '-?[0-9]{1,9}') THEN CAST(x AS INTEGER)
      ELSE TRY_CAST(regexp_extract(x, '^\\s*(-?[0-9]{1,9})_*\\s*$', 1) AS INTEGER) END;
    ${create} etl_range(v, lo, hi) AS CASE WHEN v BETWEEN lo AND hi THEN v END;
    ${create} etl_customer(x) AS CASE WHEN regexp_full_match(x, 'CUS_0x[0-9a-fA-F]+') THEN x
      ELSE regexp_extract_all(x, '^\\s*(CUS_0x[0-9a-fA-F]+)\\s*$', 1)[1] END;
    ${create} etl_ratio(numerator, denominator) AS
      CASE WHEN denominator > 0 THEN numerator / denominator END;
  `);
  if (scope === 'connection') connectionsWithMacros.add(db);
}
