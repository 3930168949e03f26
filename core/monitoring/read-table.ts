// Reading a model's monitoring table by model id, for command-line tools: the path comes from the datamart layout.
import type { MonitoringRow } from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import { withDuckDB } from '../duckdb.js';
import { readMonitoringTable as readTableAt } from './table.js';

/** The rows of gold/monitoring/model_id=<modelId>/data.parquet, validated, oldest month first. */
export async function readMonitoringTable(datamartDir: string, modelId: string): Promise<MonitoringRow[]> {
  return withDuckDB((db) => readTableAt(db, datamart.monitoring(datamartDir, modelId)));
}
