// What starting a workflow run costs the worker: many short scoreMonthWorkflow runs (their activity answers at once)
// on a private dev server and an in-process worker with the project's own bundle, in rounds, printing the process CPU
// per run. Every run evaluates the bundle's modules afresh, so what the workflows import shows here. Run with
// `node --cpu-prof --cpu-prof-dir=DIR --import tsx tools/bench/workflow-start.ts` to see where the workflow threads'
// time goes (one profile per thread).
//   npx tsx tools/bench/workflow-start.ts [--runs 96] [--rounds 3]
import { parseArgs } from 'node:util';
import { workerTracingOptions } from '../../workers/telemetry.js';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { freePort, startDevServer } from '../../workers/dev-server.js';
import { cachedWorkflowBundle } from '../../workers/workflow-bundle.js';
import { WORKFLOWS_PATH } from '../../workers/worker.js';

const options = z
  .object({ runs: z.coerce.number().int().min(1).max(1000).default(96), rounds: z.coerce.number().int().min(1).max(20).default(3) })
  .parse(parseArgs({ options: { runs: { type: 'string' }, rounds: { type: 'string' } } }).values);

Runtime.install({ logger: new DefaultLogger('WARN') });
const TASK_QUEUE = 'workflow-start-bench';
const server = await startDevServer({ port: await freePort(), headless: true });
try {
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: { code: (await cachedWorkflowBundle(WORKFLOWS_PATH)).code },
    // Answers at once: what is measured is the workflow run around it.
    activities: { scoreMonth: async () => ({ month: '2024-01', modelId: 'bench', rows: 0, path: '', seconds: 0 }) },
    workflowThreadPoolSize: 2,
    ...workerTracingOptions(null),
  });
  await worker.runUntil(async () => {
    for (let round = 1; round <= options.rounds; round++) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: options.runs }, (_, index) =>
          client.workflow.execute('scoreMonthWorkflow', {
            taskQueue: TASK_QUEUE,
            workflowId: `workflow-start-${round}-${index}`,
            args: [{ month: '2024-01', modelId: 'gbtree-2024-06-0123456789ab' }],
          }),
        ),
      );
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      console.log(
        `round ${round}: ${options.runs} runs in ${(performance.now() - started).toFixed(0)} ms, ` +
          `process CPU ${cpuMs.toFixed(0)} ms (${(cpuMs / options.runs).toFixed(1)} ms per run, client and worker together)`,
      );
    }
  });
  await nativeConnection.close();
  await connection.close();
} finally {
  await server.stop();
}
