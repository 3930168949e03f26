// Why a datamart partition is not current, as data: the planner (core/datamart/plan.ts) finds them by walking the
// table graph from a gold partition down to the source slices, the planning activity returns them through Temporal,
// the backfill's progress query and `npm run backfill -- --plan` show them. Plain data and pure functions, so a
// workflow may hold them.
import type { Source } from './layout.js';
import type { Month } from './months.js';

/**
 * One reason a target partition (`target`, e.g. `gold/feature_store/2024-03`) is not current, found at `partition`:
 * the target itself or a partition it reads, directly or further down (`silver/clickstream/2024-01`, …).
 */
export type StaleCause =
  /** The partition's data or its readable `_lineage.json` does not exist. */
  | { kind: 'missing'; target: string; partition: string }
  /** The source file's rows of `month` differ from the slice the bronze partition `partition` was built from. */
  | { kind: 'source_changed'; target: string; partition: string; source: Source; month: Month }
  /** `partition` was rebuilt from other inputs since `target` read it (it is current itself; the target is not). */
  | { kind: 'upstream_changed'; target: string; partition: string }
  /** `partition` was built by another version of its table's transform than the current code's. */
  | { kind: 'code_version_changed'; target: string; partition: string; recorded: number; current: number };

export type StaleCauseKind = StaleCause['kind'];

/** One line for people: `gold/feature_store/2024-03: source changed: clickstream 2024-01 (bronze/clickstream/2024-01)`. */
export function describeStaleCause(cause: StaleCause): string {
  const at = cause.partition === cause.target ? '' : ` (${cause.partition})`;
  switch (cause.kind) {
    case 'missing':
      return cause.partition === cause.target ? `${cause.target}: missing` : `${cause.target}: missing input ${cause.partition}`;
    case 'source_changed':
      return `${cause.target}: source changed: ${cause.source} ${cause.month}${at}`;
    case 'upstream_changed':
      return `${cause.target}: upstream changed: ${cause.partition} was rebuilt since`;
    case 'code_version_changed':
      return `${cause.target}: code version changed: ${cause.partition.replace(/\/[^/]+$/, '')} v${cause.recorded} -> v${cause.current}${at}`;
  }
}
