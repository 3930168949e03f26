// SQL literals for the monitoring tables, which are written from rows computed in JavaScript.
import { sqlString } from '../duckdb.js';

/** A DOUBLE literal that round-trips exactly (text → strtod), or NULL. */
export function sqlDouble(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'NULL::DOUBLE' : `${sqlString(String(value))}::DOUBLE`;
}
