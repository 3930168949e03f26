// Every failure the pipeline names, in one place. Plain code throws a PipelineError; the activity adapter
// (activities/failures.ts) turns it into an ApplicationFailure of the error's `type`, non-retryable unless the class
// says otherwise. Workflows fail with the workflow failure types below. Pure: workflows import this file.

/** A failure with a Temporal failure type. Permanent by default: the same input fails the same way again. */
export class PipelineError extends Error {
  /** The ApplicationFailure type; each subclass sets its own. */
  static readonly type: string = 'PipelineError';
  /** Whether Temporal may retry the activity that threw it. */
  static readonly retryable: boolean = false;

  readonly type: string;
  readonly retryable: boolean;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    const kind = new.target as typeof PipelineError;
    this.type = kind.type;
    this.retryable = kind.retryable;
    this.name = kind.type;
  }
}

export interface SourceLocation {
  file: string;
  column?: string;
  line?: number;
}

/** A file-level defect in a source: missing file or column, unreadable CSV, undetectable date spelling (SPEC §1). */
export class InvalidSourceData extends PipelineError {
  static override readonly type = 'InvalidSourceData';
  constructor(
    readonly location: SourceLocation,
    problem: string,
  ) {
    const where = [
      location.file,
      location.column ? `column '${location.column}'` : undefined,
      location.line !== undefined ? `line ${location.line}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super(`${where}: ${problem}`);
  }
}

/** Too many rows of one month of one source were quarantined (SPEC §1). */
export class DataQualityError extends PipelineError {
  static override readonly type = 'DataQualityError';
}

/**
 * A training asked to read source data that is incomplete (a source month emptied or cut, lib/completeness.ts) and that
 * no operator accepted: no model is trained from it.
 */
export class IncompleteSourceData extends PipelineError {
  static override readonly type = 'IncompleteSourceData';
}

/**
 * A partition read without its `_lineage.json`: the step before has not written it (yet). Retryable, since an
 * overlapping run may be republishing that partition right now (its lineage goes first and comes back with the data);
 * after the retries it fails the month naming the partition, and the next backfill rebuilds it as stale.
 */
export class MissingLineage extends PipelineError {
  static override readonly type = 'MissingLineage';
  static override readonly retryable = true;
}

/** A model artifact whose checksum or content does not match what was registered. */
export class InvalidModelArtifact extends PipelineError {
  static override readonly type = 'InvalidModelArtifact';
}

/** An activity input or a file read back that does not have the expected shape. */
export class InvalidInput extends PipelineError {
  static override readonly type = 'InvalidInput';
}

/** A rollback with no earlier production model to return to. */
export class NoPreviousModel extends PipelineError {
  static override readonly type = 'NoPreviousModel';
}

/**
 * An operator's promotion the gate refused: the model was rolled back or rejected before and does not pass the gate
 * now (`--force` promotes it anyway, logged as forced).
 */
export class PromotionRefused extends PipelineError {
  static override readonly type = 'PromotionRefused';
}

/** Predictions, labels or features that monitoring cannot use (wrong columns, values out of range). */
export class MonitoringInputError extends PipelineError {
  static override readonly type = 'MonitoringInputError';
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** A failure of libxgboost, carrying XGBoost's own message (XGBGetLastError) and the C call that failed. */
export class XGBoostError extends PipelineError {
  static override readonly type = 'XGBoostError';
  constructor(
    message: string,
    /** The C API function that returned a non-zero code, e.g. 'XGBoosterUpdateOneIter'. */
    readonly call?: string,
  ) {
    super(call ? `${call}: ${message}` : message);
  }
}

/**
 * A write ran out of space on its file system (ENOSPC). Not retried by Temporal: the same write fails the same way
 * until someone frees space, and five silent retries would hide the cause; the message names the path, the space the
 * write needed (as far as it is known) and the space free, and the same command redoes the rest once space is freed.
 */
export class DiskFull extends PipelineError {
  static override readonly type = 'DiskFull';
  constructor(
    readonly path: string,
    /** Bytes the write needed: its size when known, else a lower bound (what it had written when the disk filled). */
    readonly bytesNeeded: number,
    readonly bytesFree: number | null,
    /** How well bytesNeeded is known: the write's size, a lower bound, or an estimate. */
    readonly estimate: 'exact' | 'at least' | 'about',
  ) {
    super(
      `disk full writing ${path}: it needs ${estimate === 'exact' ? '' : `${estimate} `}${formatBytes(bytesNeeded)}` +
        `${bytesFree === null ? '' : `, ${formatBytes(bytesFree)} free on its file system`}; free space there, then run the same command again`,
    );
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

/** The family: every error class activities may throw on purpose. */
export const PIPELINE_ERRORS = [
  InvalidSourceData,
  DataQualityError,
  IncompleteSourceData,
  InvalidModelArtifact,
  InvalidInput,
  NoPreviousModel,
  PromotionRefused,
  MonitoringInputError,
  XGBoostError,
  DiskFull,
  MissingLineage,
] as const;

/** Failure types activity retry policies never retry: the permanent members of the family. */
export const NON_RETRYABLE_TYPES: string[] = PIPELINE_ERRORS.filter((kind) => !kind.retryable).map((kind) => kind.type);

/** Types workflows fail with (ApplicationFailure, non-retryable). */
export const WorkflowFailure = {
  /** The workflow's input (or a signal's) does not parse. */
  InvalidWorkflowInput: 'InvalidWorkflowInput',
  /** Some months of a backfill failed; running the same backfill again redoes only those. */
  BackfillIncomplete: 'BackfillIncomplete',
  /** Some months of a historical inference failed. */
  HistoryIncomplete: 'HistoryIncomplete',
  /**
   * Another backfill with a different source folder runs on the same datamart: both would write the same months
   * from different files and train on a mix. The later one is refused (one source folder at a time).
   */
  SourceFolderBusy: 'SourceFolderBusy',
  /** Scoring was asked for without a production model or a model id. */
  NoProductionModel: 'NoProductionModel',
  /** A month with no row in any source: its data has not arrived (the monthly schedule retries it next time). */
  NoSourceData: 'NoSourceData',
  /** The month's pipeline, run by an overlapping backfill, failed there; this backfill reports that failure. */
  MonthFailedElsewhere: 'MonthFailedElsewhere',
  /** The training as of the same month, started by an overlapping backfill, failed or vanished there. */
  TrainingFailedElsewhere: 'TrainingFailedElsewhere',
  /** An operator named a model the model bank does not hold. */
  UnknownModel: 'UnknownModel',
} as const;
export type WorkflowFailureType = (typeof WorkflowFailure)[keyof typeof WorkflowFailure];
