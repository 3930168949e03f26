// What an operator sees of a worker. Metrics: the worker as its own process (`npm run worker`'s entry; the Temporal
// runtime and its Prometheus endpoint are once per process) scraped on WORKER_METRICS_PORT during a backfill: the
// SDK's own metrics and the pipeline's counters present and increasing, the feature-store row count equal to the rows
// DuckDB reads back from the gold partitions, and a second run counting its reused months. Traces: an in-process worker
// and client with an in-memory OpenTelemetry exporter, where a backfill's spans form one tree
// backfill → month → activity, with the month on the activity's span.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client } from '@temporalio/client';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { queryRows, readParquet, withDuckDB } from '../../core/duckdb.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import { backfillWorkflow } from '../../workflows/index.js';
import { startWorkerChild, type WorkerChild } from '../../workers/worker-process.js';
import { clientInterceptors, startTracing } from '../../workers/telemetry.js';
import { SPAN_ATTRIBUTES } from '../../workers/span-attributes.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { freePort } from '../../workers/dev-server.js';

const FROM = '2023-01';
const TO = '2023-06';
const MONTHS = monthRange(FROM, TO).length;

/** Sum of a metric's samples whose labels include every one of `labels`. */
function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('worker observability', { timeout: 900_000 }, () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  test('Temporal SDK metrics and the pipeline counters on WORKER_METRICS_PORT, increasing during a backfill', async () => {
    const scratch = scratchConfig('worker-metrics');
    const { config } = scratch;
    const port = await freePort();
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    let worker: WorkerChild | undefined;
    try {
      worker = await startWorkerChild({ address: env.address, config, extraEnv: { WORKER_METRICS_PORT: String(port), WORKER_METRICS_HOST: '127.0.0.1' } });
      const scrape = async () => (await fetch(metricsUrl)).text();
      const idle = await scrape();
      assert.ok((metricValue(idle, 'temporal_num_pollers', { poller_type: 'workflow_task', task_queue: config.TEMPORAL_TASK_QUEUE }) ?? 0) > 0, idle);
      assert.ok(metricValue(idle, 'temporal_worker_task_slots_available', { worker_type: 'ActivityWorker' }) !== null, 'slot metrics');
      assert.equal(metricValue(idle, 'credit_pipeline_rows_total'), null, 'no pipeline rows before any work');
      // The pipeline's metrics carry the SDK's tags of the activity that recorded them.

      const handle = await env.client.workflow.start(backfillWorkflow, {
        workflowId: `${workflowIds.backfill(FROM, TO)}-metrics`,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ from: FROM, to: TO, sourceDir: FIXTURE_DIR, parallelism: 1 }],
      });
      // Scraped while the backfill runs: the first month's rows appear before the last month is done.
      let during: string | null = null;
      const deadline = Date.now() + 600_000;
      while (!during) {
        assert.ok(Date.now() < deadline, 'no scrape showed the backfill under way');
        const text = await scrape();
        const built = metricValue(text, 'credit_pipeline_months_built_total') ?? 0;
        if (built >= 1 && built < MONTHS) during = text;
        if (built >= MONTHS) assert.fail(`the backfill finished between two scrapes; last scrape:\n${text}`);
        await new Promise((wait) => setTimeout(wait, 100));
      }
      const result = await handle.result();
      assert.deepEqual(result.done, monthRange(FROM, TO));
      const done = await scrape();

      const rowsDuring = metricValue(during, 'credit_pipeline_rows_total', { stage: 'feature_store' }) ?? 0;
      const rowsAfter = metricValue(done, 'credit_pipeline_rows_total', { stage: 'feature_store' }) ?? 0;
      assert.ok(rowsDuring > 0 && rowsAfter > rowsDuring, `feature-store rows ${rowsDuring} → ${rowsAfter}`);
      assert.equal(metricValue(done, 'credit_pipeline_months_built_total'), MONTHS);
      assert.ok(metricValue(done, 'credit_pipeline_rows_total', { stage: 'feature_store', activityType: 'runMonthEtl', taskQueue: config.TEMPORAL_TASK_QUEUE }));
      for (const source of ['attributes', 'financials', 'clickstream', 'loan_daily']) {
        assert.ok((metricValue(done, 'credit_pipeline_rows_total', { stage: 'bronze', source }) ?? 0) > 0, `bronze rows of ${source}`);
      }
      // The oracle: the rows DuckDB reads back from the gold feature-store partitions.
      const files = monthRange(FROM, TO).map((month) => partitionFile(datamart.featureStore(config.DATAMART_DIR), month));
      const [{ n }] = await withDuckDB((db) => queryRows<{ n: bigint }>(db, `SELECT count(*) AS n FROM ${readParquet(files)}`));
      assert.equal(rowsAfter, Number(n));
      // The SDK's own: activity and workflow task latencies grew with the work.
      const activities = (text: string) => metricValue(text, 'temporal_activity_execution_latency_count', { activity_type: 'runMonthEtl' }) ?? 0;
      assert.ok(activities(done) >= MONTHS && activities(done) > activities(during), `runMonthEtl executions ${activities(during)} → ${activities(done)}`);
      assert.ok((metricValue(done, 'temporal_workflow_task_execution_latency_count') ?? 0) > (metricValue(idle, 'temporal_workflow_task_execution_latency_count') ?? 0));
      assert.equal(metricValue(done, 'credit_pipeline_month_etl_duration_count'), MONTHS, 'one ETL duration per month');

      // The same range again: every month is current, counted as reused, nothing rebuilt.
      const again = await env.client.workflow.execute(backfillWorkflow, {
        workflowId: `${workflowIds.backfill(FROM, TO)}-metrics-again`,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ from: FROM, to: TO, sourceDir: FIXTURE_DIR }],
      });
      assert.deepEqual(again.skipped, monthRange(FROM, TO));
      const reused = await scrape();
      assert.equal(metricValue(reused, 'credit_pipeline_partitions_reused_total'), MONTHS);
      assert.equal(metricValue(reused, 'credit_pipeline_months_built_total'), MONTHS);
      // Structured logs: the worker's lines are JSON objects.
      const lines = worker.output().split('\n').filter((line) => line.trim());
      assert.ok(lines.length > 0 && lines.every((line) => line.startsWith('{')), worker.output().slice(0, 2000));
    } finally {
      await worker?.stop();
      scratch.cleanup();
    }
  });

  test('a backfill traces as one span tree: client → backfill → month → activity, the month on the activity span', async () => {
    const scratch = scratchConfig('worker-traces');
    const { config } = scratch;
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({}, 'credit-pipeline-test', new SimpleSpanProcessor(exporter));
    assert.ok(tracing);
    try {
      const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', interceptors: clientInterceptors(tracing) });
      await withWorker(env, config, () =>
        client.workflow.execute(backfillWorkflow, {
          workflowId: `${workflowIds.backfill(FROM, FROM)}-traces`,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          args: [{ from: FROM, to: FROM, sourceDir: FIXTURE_DIR }],
        }),
        tracing,
      );
      await tracing.spanProcessor.forceFlush();
      const spans = exporter.getFinishedSpans();
      const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
      const ancestry = (span: ReadableSpan): ReadableSpan[] => {
        const chain: ReadableSpan[] = [];
        for (let at: ReadableSpan | undefined = span; at; at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined) chain.push(at);
        return chain.reverse();
      };
      const etl = spans.find((span) => span.name === 'RunActivity:runMonthEtl');
      assert.ok(etl, `no runMonthEtl activity span among ${[...new Set(spans.map((span) => span.name))].join(', ')}`);
      assert.equal(etl.attributes[SPAN_ATTRIBUTES.month], FROM);
      const chainSpans = ancestry(etl);
      const chain = chainSpans.map((span) => span.name);
      const expected = ['StartWorkflow:backfillWorkflow', 'RunWorkflow:backfillWorkflow', 'StartChildWorkflow:monthPipelineWorkflow', 'RunWorkflow:monthPipelineWorkflow', 'StartActivity:runMonthEtl', 'RunActivity:runMonthEtl'];
      let position = -1;
      for (const name of expected) {
        const found = chain.indexOf(name, position + 1);
        assert.ok(found > position, `${name} is not in order in the span chain ${chain.join(' → ')}`);
        position = found;
      }
      assert.equal(chain[0], 'StartWorkflow:backfillWorkflow', 'the client span is the root');
      assert.equal(new Set(chainSpans.map((span) => span.spanContext().traceId)).size, 1, 'one trace');
    } finally {
      await tracing.shutdown();
      scratch.cleanup();
    }
  });
});
