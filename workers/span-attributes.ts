// The pipeline's business keys on each activity's span: which month and which model it worked on, read from the
// activity's input (`month`, `modelId`, `asOf` where it has them), so a trace answers "which month was slow".
import { trace } from '@opentelemetry/api';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';

export const SPAN_ATTRIBUTES = { month: 'credit_pipeline.month', modelId: 'credit_pipeline.model_id', asOf: 'credit_pipeline.as_of' } as const;

/** Runs inside OpenTelemetry's activity interceptor, whose span is the active one here. */
export class PipelineSpanAttributes implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const span = trace.getActiveSpan();
    const [first] = input.args;
    if (span && first !== null && typeof first === 'object') {
      for (const [field, attribute] of Object.entries(SPAN_ATTRIBUTES)) {
        const value = (first as Record<string, unknown>)[field];
        if (typeof value === 'string') span.setAttribute(attribute, value);
      }
    }
    return next(input);
  }
}
