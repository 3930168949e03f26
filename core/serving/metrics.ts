// Prometheus metrics of the scoring API (GET /metrics), on a registry of its own so that several servers in one
// process (tests) do not share counters.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function servingMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'credit_serving_requests_total',
      help: 'HTTP requests answered, by route and status code',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'credit_serving_request_duration_seconds',
      help: 'Time from request to response, by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers: [registry],
    }),
    scored: new Counter({
      name: 'credit_serving_applications_scored_total',
      help: 'Applications scored, by model',
      labelNames: ['model_id'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'credit_serving_errors_total',
      help: 'Errors by kind: bad_request, rejected_application, overloaded, internal, model_load, online_sink',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    model: new Gauge({
      name: 'credit_serving_model_info',
      help: 'The model being served (value 1)',
      labelNames: ['model_id'] as const,
      registers: [registry],
    }),
    swaps: new Counter({ name: 'credit_serving_model_swaps_total', help: 'Model swaps (promotion or rollback seen)', registers: [registry] }),
    featureQueries: new Counter({
      name: 'credit_serving_feature_queries_total',
      help: 'Feature queries (micro-batches), by DuckDB: micro_batches, or lone_request for a request alone on the server',
      labelNames: ['duckdb'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'credit_serving_micro_batch_applications',
      help: 'Applications per feature query (micro-batch)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
  };
}

export type ServingMetrics = ReturnType<typeof servingMetrics>;
