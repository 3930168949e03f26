// Activity adapters turn domain errors into Temporal failures: data and artifact defects are never retried.
import { ApplicationFailure } from '@temporalio/common';
import { DataQualityError, InvalidModelArtifact, InvalidSourceData } from '../lib/errors.js';

export function toTemporalFailure(error: unknown): unknown {
  if (error instanceof InvalidSourceData || error instanceof DataQualityError || error instanceof InvalidModelArtifact) {
    return ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true, cause: error });
  }
  return error;
}

/** Wraps an activity body so that domain errors leave it as non-retryable ApplicationFailures of their type. */
export function adaptActivity<I extends unknown[], O>(body: (...input: I) => Promise<O>): (...input: I) => Promise<O> {
  return async (...input: I) => {
    try {
      return await body(...input);
    } catch (error) {
      throw toTemporalFailure(error);
    }
  };
}
