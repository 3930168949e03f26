// Phase 2 alone, several times, on the datamart and model bank a bench run kept (`npm run bench -- --scale 10 --keep`):
// its own dev server and worker child, historicalInferenceWorkflow over the months, and per run the figure the bench
// reports (rows per scoreMonth activity-second) beside phase 2's wall. Seconds per run instead of minutes per bench,
// so scoring changes and slot counts can be compared interleaved on a machine other jobs share.
//   npx tsx tools/bench/phase2-repeat.ts --work bench/tmp/scale-10-<pid> [--runs 3] [--concurrency N] [--from 2023-01 --to 2024-12]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../lib/config.js';
import { monthSchema } from '../../lib/months.js';
import { workflowIds } from '../../lib/temporal.js';
import { freePort, startDevServer } from '../../workers/dev-server.js';
import { historicalInferenceWorkflow } from '../../workflows/index.js';
import { startWorkerChild } from '../../workers/worker-process.js';
import { processCpuSeconds } from './cpu-sampler.js';
import { addHistory, emptyTiming } from './history-timing.js';

const { values } = parseArgs({
  options: {
    work: { type: 'string' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: String(availableParallelism()) },
    from: { type: 'string', default: '2023-01' },
    to: { type: 'string', default: '2024-12' },
  },
});
if (!values.work) throw new Error('--work: the folder a bench run kept (bench/tmp/scale-<S>-<pid>) is required');
const work = resolve(values.work);
const [from, to] = [monthSchema.parse(values.from), monthSchema.parse(values.to)];
const taskQueue = 'credit-pipeline-phase2-repeat';
const config = loadConfig({
  DATAMART_DIR: join(work, 'datamart'),
  MODEL_BANK_DIR: join(work, 'model_bank'),
  REPORTS_DIR: join(work, 'reports'),
  TEMPORAL_TASK_QUEUE: taskQueue,
  WORKER_MAX_CONCURRENT_ACTIVITIES: values.concurrency,
});
// The server's database (and its WAL files) in a folder of its own, removed at the end.
const serverDir = mkdtempSync(join(tmpdir(), 'phase2-repeat-'));
const server = await startDevServer({ port: await freePort(), headless: true, dbFile: join(serverDir, 'temporal.db'), logFile: join(serverDir, 'server.log') });
try {
  const worker = await startWorkerChild({ address: server.address, config });
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    for (let run = 1; run <= Number(values.runs); run++) {
      const load = loadavg().map((value) => value.toFixed(2)).join(' ');
      const started = Date.now();
      const cpuBefore = processCpuSeconds(worker.pid);
      const workflowId = `${workflowIds.history(from, to)}-run-${run}`;
      await client.workflow.execute(historicalInferenceWorkflow, { workflowId, taskQueue, args: [{ from, to }] });
      const wall = Date.now() - started;
      // The worker's CPU over the run (scoring, its workflow tasks, DuckDB and onnxruntime threads): what the scoring
      // costs whatever else shares the cores, where activity-seconds also count the waits for a core.
      const cpuAfter = processCpuSeconds(worker.pid);
      const workerCpu = cpuBefore === null || cpuAfter === null ? 'worker CPU unknown' : `worker CPU ${(cpuAfter - cpuBefore).toFixed(2)} s`;
      // This run's children: every scoreMonthWorkflow started since it began.
      const timing = emptyTiming();
      for await (const execution of client.workflow.list({ query: `WorkflowType = 'scoreMonthWorkflow' AND StartTime >= '${new Date(started).toISOString()}'` })) {
        addHistory(timing, (await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()).events ?? []);
      }
      const scoring = timing.activities.scoreMonth;
      console.log(
        `run ${run} (load ${load}, ${values.concurrency} slots): phase 2 ${(wall / 1000).toFixed(2)} s; ${scoring.count} scoreMonth, ${scoring.rows} rows, ` +
          `${(scoring.runMs / 1000).toFixed(2)} activity-s → ${Math.round(scoring.rows / (scoring.runMs / 1000))} rows per activity-second ` +
          `(mean ${(scoring.runMs / scoring.count).toFixed(0)} ms, max ${scoring.maxRunMs.toFixed(0)} ms); ${workerCpu}`,
      );
    }
  } finally {
    await connection.close();
    await worker.stop();
  }
} finally {
  await server.stop();
  rmSync(serverDir, { recursive: true, force: true });
}
