// Domain failures with the Temporal failure types of SPEC §1. Plain code throws these; activity adapters turn
// them into non-retryable ApplicationFailures of the same type (activities/failures.ts).

export const INVALID_SOURCE_DATA = 'InvalidSourceData';
export const DATA_QUALITY_ERROR = 'DataQualityError';
export const INVALID_MODEL_ARTIFACT = 'InvalidModelArtifact';
export const INVALID_INPUT = 'InvalidInput';
export const NON_RETRYABLE_TYPES = [INVALID_SOURCE_DATA, DATA_QUALITY_ERROR, INVALID_MODEL_ARTIFACT, INVALID_INPUT];

export interface SourceLocation {
  file: string;
  column?: string;
  line?: number;
}

/** A file-level defect in a source: missing file or column, unreadable CSV, undetectable date spelling. */
export class InvalidSourceData extends Error {
  readonly type = INVALID_SOURCE_DATA;
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
    this.name = INVALID_SOURCE_DATA;
  }
}

/** Too many rows of one month of one source were quarantined. */
export class DataQualityError extends Error {
  readonly type = DATA_QUALITY_ERROR;
  constructor(message: string) {
    super(message);
    this.name = DATA_QUALITY_ERROR;
  }
}

/** A model artifact whose checksum or content does not match what was registered. */
export class InvalidModelArtifact extends Error {
  readonly type = INVALID_MODEL_ARTIFACT;
  constructor(message: string) {
    super(message);
    this.name = INVALID_MODEL_ARTIFACT;
  }
}
