// Production follows the data (issue 27): a model records the lineage fingerprints of the gold partitions it was
// trained on (metadata `training_lineage`); once one of them is rebuilt from other inputs (a source slice it read has
// changed) or is gone, the model's training data is no longer current. For the production model that is
// `production_stale`: status and monitoring say so, and the next training on the current data goes through the gate.
import { datamart } from '../../lib/layout.js';
import { compareMonths, type Month } from '../../lib/months.js';
import { partitionPath, TARGET_TABLES, type TableName } from '../datamart/graph.js';
import { parsePartitionName, partitionName, readLineage } from '../datamart/lineage.js';
import { listPartitionMonths } from './dataset.js';
import { readMetadata } from './bank.js';
import { readRegistry } from './registry.js';

/**
 * The fingerprints of the gold partitions a training set as of `asOf` reads: its application months' feature store and
 * the label store up to `asOf`. Undefined when one has no lineage (a datamart not built by the ETL, as in unit tests):
 * the model's staleness is then unknown.
 */
export async function trainingGoldLineage(datamartDir: string, asOf: Month, applicationMonths: readonly Month[]): Promise<Record<string, string> | undefined> {
  const labelMonths = (await listPartitionMonths(datamart.labelStore(datamartDir))).filter((month) => compareMonths(month, asOf) <= 0);
  const partitions = [
    ...applicationMonths.map((month) => ({ table: 'gold/feature_store' as const, month })),
    ...labelMonths.map((month) => ({ table: 'gold/label_store' as const, month })),
  ];
  const lineage: Record<string, string> = {};
  for (const { table, month } of partitions) {
    const recorded = await readLineage(partitionPath(datamartDir, table, month));
    if (!recorded) return undefined;
    lineage[partitionName(table, month)] = recorded.fingerprint;
  }
  return lineage;
}

/** The recorded gold partitions whose current lineage differs (rebuilt from other inputs) or that are gone. */
export async function changedTrainingData(datamartDir: string, recorded: Readonly<Record<string, string>>): Promise<string[]> {
  const changed: string[] = [];
  for (const [name, fingerprint] of Object.entries(recorded).sort(([a], [b]) => a.localeCompare(b))) {
    const { table, month } = parsePartitionName(name);
    if (!TARGET_TABLES.includes(table as TableName)) continue;
    const current = await readLineage(partitionPath(datamartDir, table as TableName, month));
    if (current?.fingerprint !== fingerprint) changed.push(name);
  }
  return changed;
}

export interface ProductionStaleness {
  production: string | null;
  /** null: no production model, or one registered before models recorded their training data's lineage. */
  stale: boolean | null;
  /** The gold partitions it was trained on that changed since (a few, for people). */
  changed: string[];
  reason: string;
}

const SHOWN = 4;

/** Whether the production model's training data is still what the datamart holds. */
export async function productionStaleness(datamartDir: string, modelBankDir: string): Promise<ProductionStaleness> {
  const { production } = await readRegistry(modelBankDir);
  if (!production) return { production, stale: null, changed: [], reason: 'no production model' };
  const recorded = (await readMetadata(modelBankDir, production)).training_lineage;
  if (!recorded) return { production, stale: null, changed: [], reason: `${production} records no lineage of its training data (registered before it was recorded)` };
  const changed = await changedTrainingData(datamartDir, recorded);
  if (changed.length === 0) return { production, stale: false, changed, reason: `${production} was trained on the current data` };
  const shown = changed.slice(0, SHOWN).join(', ') + (changed.length > SHOWN ? ` and ${changed.length - SHOWN} more` : '');
  return {
    production,
    stale: true,
    changed: changed.slice(0, SHOWN),
    reason: `production ${production} was trained on data no longer current: ${shown} changed since (rebuilt from other source data)`,
  };
}
