// The planner: which months' gold partitions are not current for the sources, and why. It walks the table graph
// (graph.ts) from each target partition of a month down to the source slices, holding what every partition records
// (its _lineage.json) against what the current sources and code give (expectedLineages, the same the builder
// records), and names each cause as data (lib/stale-causes.ts): missing, source changed, upstream changed, code
// version changed, with the partition where it lies.
import { SOURCES, type Source } from '../../lib/layout.js';
import type { Month } from '../../lib/months.js';
import { describeStaleCause, type StaleCause } from '../../lib/stale-causes.js';
import { exists } from '../files.js';
import { stageSource, type StagedSource } from '../etl/staging.js';
import { expectedLineages, inputPartitions, partitionPath, TABLES, TARGET_TABLES, type TableName } from './graph.js';
import { partitionName, readLineage, type Lineage } from './lineage.js';

export interface MonthPlan {
  month: Month;
  /** True when every target partition of the month (the gold tables) records the fingerprint the current sources give. */
  current: boolean;
  /** Why not, for people: the causes described, `; `-separated ('current' when none). */
  reason: string;
  /** Why not, as data: one or more causes per target partition that is not current. */
  causes: StaleCause[];
}

/** The current sources staged (cached), for their slice fingerprints. */
export async function stageAllSources(datamartDir: string, sourceDir: string, signal?: AbortSignal): Promise<Record<Source, StagedSource>> {
  const staged = await Promise.all(SOURCES.map((source) => stageSource(datamartDir, sourceDir, source, signal)));
  return Object.fromEntries(SOURCES.map((source, i) => [source, staged[i]])) as Record<Source, StagedSource>;
}

/**
 * For each month, whether its target partitions are current, and if not, why: "done" means done from the current
 * inputs, so a partition that is missing, has no lineage, or records other fingerprints than the current sources and
 * code give is stale, and the walk down its inputs says where the difference lies.
 */
export async function planMonths(datamartDir: string, sourceDir: string, months: readonly Month[], signal?: AbortSignal): Promise<MonthPlan[]> {
  const staged = await stageAllSources(datamartDir, sourceDir, signal);
  const expected = expectedLineages(async (source) => staged[source]);
  const recordedMemo = new Map<string, Promise<Lineage | null>>();
  const recorded = (table: TableName, month: Month) => {
    const name = partitionName(table, month);
    let lineage = recordedMemo.get(name);
    if (!lineage) {
      const path = partitionPath(datamartDir, table, month);
      recordedMemo.set(name, (lineage = exists(path).then((present) => (present ? readLineage(path) : null))));
    }
    return lineage;
  };

  /** Why the partition (table, month) does not record its expected fingerprint, as seen from `target`; [] when it does. */
  const causesAt = async (target: string, table: TableName, month: Month): Promise<StaleCause[]> => {
    const want = await expected(table, month);
    const have = await recorded(table, month);
    if (have?.fingerprint === want.fingerprint) return [];
    const partition = partitionName(table, month);
    if (!have) return [{ kind: 'missing', target, partition }];
    const causes: StaleCause[] = [];
    if (have.version !== want.version) causes.push({ kind: 'code_version_changed', target, partition, recorded: have.version, current: want.version });
    const source = TABLES[table].source;
    if (source && have.inputs.slice !== want.inputs.slice) causes.push({ kind: 'source_changed', target, partition, source, month });
    for (const input of inputPartitions(table, month)) {
      const inputName = partitionName(input.table, input.month);
      const inputWant = await expected(input.table, input.month);
      if (have.inputs[inputName] === inputWant.fingerprint) continue;
      // The input is current itself: it was rebuilt since this partition read it. Otherwise the cause lies further down.
      if ((await recorded(input.table, input.month))?.fingerprint === inputWant.fingerprint) causes.push({ kind: 'upstream_changed', target, partition: inputName });
      else causes.push(...(await causesAt(target, input.table, input.month)));
    }
    // Same version and inputs, another fingerprint: a lineage this code did not write (edited by hand, another graph).
    return causes.length > 0 ? causes : [{ kind: 'missing', target, partition }];
  };

  const plans: MonthPlan[] = [];
  for (const month of months) {
    const causes: StaleCause[] = [];
    for (const table of TARGET_TABLES) causes.push(...(await causesAt(partitionName(table, month), table, month)));
    plans.push({ month, current: causes.length === 0, reason: causes.map(describeStaleCause).join('; ') || 'current', causes });
  }
  return plans;
}
