// What an operator sees of a worker: its logs, metrics and traces.
// - Logs: the Temporal runtime's logger (the SDK's own lines and every activity's `log`, which carry the workflow and
//   activity ids as attributes), one JSON object per line by default (WORKER_LOG_FORMAT).
// - Metrics: the Temporal SDK's Prometheus endpoint on WORKER_METRICS_PORT (task latencies, slots, sticky cache,
//   pollers), which also exports the pipeline's own counters and histograms (activities/metrics.ts records them
//   through the SDK's metric meter).
// - Traces: OpenTelemetry through @temporalio/interceptors-opentelemetry (client → workflow → child workflow →
//   activity spans, propagated in Temporal headers), exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { DefaultLogger, Runtime, type LogEntry, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../lib/config.js';
import { PipelineSpanAttributes } from './span-attributes.js';

export const TRACER_NAME = 'credit-pipeline';

/** One log line: time, level, message and the entry's attributes (workflowId, activityId, … where the SDK adds them). */
export function jsonLogLine(entry: LogEntry): string {
  const { message, level, timestampNanos, meta } = entry;
  const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ time, level, message, ...(meta ?? {}) }, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : typeof value === 'bigint' ? String(value) : value,
  );
}

/**
 * Installs the process's Temporal runtime (once per process, before any connection): its logger and, with
 * WORKER_METRICS_PORT, the Prometheus endpoint.
 */
export function installWorkerRuntime(config: Config, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Runtime {
  const logger =
    config.WORKER_LOG_FORMAT === 'json' ? new DefaultLogger(config.WORKER_LOG_LEVEL, (entry) => write(jsonLogLine(entry))) : new DefaultLogger(config.WORKER_LOG_LEVEL);
  return Runtime.install({
    logger,
    ...(config.WORKER_METRICS_PORT
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: `${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}`,
                // Durations in seconds and counters ending in _total: Prometheus's own conventions.
                useSecondsForDurations: true,
                countersTotalSuffix: true,
              },
            },
          },
        }
      : {}),
  });
}

export interface Tracing {
  tracer: Tracer;
  /** Where the worker hands the spans its workflows made (they are made in the sandbox, exported here). */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * A tracer provider registered as the process's global one (the interceptors propagate context through the global
 * propagator), exporting to `spanProcessor`, or by default over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 * Null when neither: no spans are made worth exporting.
 */
export function startTracing(config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT'>, serviceName: string, spanProcessor?: SpanProcessor): Tracing | null {
  const processor =
    spanProcessor ??
    (config.OTEL_EXPORTER_OTLP_ENDPOINT ? new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` })) : null);
  if (!processor) return null;
  const resource = new Resource({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? 'unknown' });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  return {
    tracer: trace.getTracer(TRACER_NAME),
    spanProcessor: processor,
    resource,
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
    },
  };
}

/** The client interceptor that starts a trace per workflow start, signal and query (none without tracing). */
export function clientInterceptors(tracing: Tracing | null): { workflow: WorkflowClientInterceptor[] } {
  return { workflow: tracing ? [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] : [] };
}

const DISCARDED = new Resource({});

/**
 * The worker's side of tracing: activity spans (children of the workflow's "StartActivity" span) and the sink that
 * receives the workflows' spans. The bundle always holds the workflow interceptors (workers/workflow-bundle.ts), so
 * the sink is registered even without tracing, then discarding what it receives.
 */
export function workerTracingOptions(tracing: Tracing | null): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      // The first is the outer one: OpenTelemetry's span is active when the attributes are set.
      activity: tracing
        ? [
            (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
            () => ({ inbound: new PipelineSpanAttributes() }),
          ]
        : [],
    },
    sinks: { exporter: makeWorkflowExporter(tracing?.spanProcessor ?? new NoopSpanProcessor(), tracing?.resource ?? DISCARDED) },
  };
}
