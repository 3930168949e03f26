// Activity adapters turn domain errors into Temporal failures: every PipelineError leaves as an ApplicationFailure
// of its type, non-retryable unless its class says otherwise (data, artifact and libxgboost defects never are).
import { ApplicationFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import { InvalidInput, PipelineError } from '../lib/errors.js';

export function toTemporalFailure(error: unknown): unknown {
  if (error instanceof ZodError) {
    // A malformed input or file read back stays malformed on the next attempt.
    const problems = error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
    return toTemporalFailure(new InvalidInput(`invalid input: ${problems}`));
  }
  if (error instanceof PipelineError) {
    return ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: !error.retryable, cause: error });
  }
  return error;
}

/** Wraps an activity body so that domain errors leave it as ApplicationFailures of their type. */
export function adaptActivity<I extends unknown[], O>(body: (...input: I) => Promise<O>): (...input: I) => Promise<O> {
  return async (...input: I) => {
    try {
      return await body(...input);
    } catch (error) {
      throw toTemporalFailure(error);
    }
  };
}
