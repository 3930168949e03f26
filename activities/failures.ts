// Activity adapters turn domain errors into Temporal failures: data and artifact defects are never retried.
import { ApplicationFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import { INVALID_INPUT, DataQualityError, InvalidModelArtifact, InvalidSourceData } from '../lib/errors.js';

export function toTemporalFailure(error: unknown): unknown {
  if (error instanceof InvalidSourceData || error instanceof DataQualityError || error instanceof InvalidModelArtifact) {
    return ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true, cause: error });
  }
  if (error instanceof ZodError) {
    // A malformed input or file read back stays malformed on the next attempt.
    const problems = error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
    return ApplicationFailure.create({ type: INVALID_INPUT, message: `invalid input: ${problems}`, nonRetryable: true });
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
