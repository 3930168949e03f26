// Reads gold/monitoring back for display, validated against the contract.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { monitoringRowSchema, type MonitoringRow } from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import { queryRows, readParquet, withDuckDB } from '../duckdb.js';

export async function readMonitoringTable(datamartDir: string, modelId: string): Promise<MonitoringRow[]> {
  const file = datamart.monitoring(datamartDir, modelId);
  if (!existsSync(file)) return [];
  const rows = await withDuckDB((db) =>
    queryRows(db, `SELECT * EXCLUDE (snapshot_date), strftime(snapshot_date, '%Y-%m-%d') AS snapshot_date FROM ${readParquet(file)} ORDER BY snapshot_date`),
  );
  return z.array(monitoringRowSchema.passthrough()).parse(rows);
}
