// DuckDB macros the silver SQL is written in: one definition of "placeholder", "number" and "in range", so every
// source is cleaned by the same rules. Numbers must look like numbers (after stripping trailing '_'): TRY_CAST alone
// would accept 'inf', '1e400' or ' 12 ' and silently make numbers out of dirt.
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../duckdb.js';
import { PLACEHOLDERS } from './source-columns.js';

export async function defineCleaningMacros(db: DuckDBConnection): Promise<void> {
  const placeholders = PLACEHOLDERS.map(sqlString).join(', ');
  await db.run(`
    CREATE OR REPLACE MACRO etl_text(x) AS
      CASE WHEN x IS NULL OR trim(x) IN (${placeholders}) OR regexp_full_match(trim(x), '_+') THEN NULL ELSE trim(x) END;
    CREATE OR REPLACE MACRO etl_num(x) AS
      CAST(nullif(regexp_extract(x, '^\\s*(-?[0-9]+(\\.[0-9]+)?)_*\\s*$', 1), '') AS DOUBLE);
    CREATE OR REPLACE MACRO etl_int(x) AS
      CAST(nullif(regexp_extract(x, '^\\s*(-?[0-9]{1,9})_*\\s*$', 1), '') AS INTEGER);
    CREATE OR REPLACE MACRO etl_range(v, lo, hi) AS CASE WHEN v BETWEEN lo AND hi THEN v END;
    CREATE OR REPLACE MACRO etl_customer(x) AS nullif(regexp_extract(x, '^\\s*(CUS_0x[0-9a-fA-F]+)\\s*$', 1), '');
    CREATE OR REPLACE MACRO etl_ratio(numerator, denominator) AS
      CASE WHEN denominator > 0 THEN numerator / denominator END;
  `);
}
