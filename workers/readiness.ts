// Worker readiness from its own Temporal metrics: ready when it polls its task queue for workflow tasks
// (temporal_num_pollers on WORKER_METRICS_PORT). Read by the container's healthcheck (workers/healthcheck.ts).
import { loadConfig } from '../lib/config.js';

/** Workflow-task pollers of `taskQueue` in a Prometheus text exposition (0 when the gauge is absent). */
export function workflowTaskPollers(metricsText: string, taskQueue: string): number {
  let pollers = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('temporal_num_pollers{')) continue;
    if (!line.includes('poller_type="workflow_task"') || !line.includes(`task_queue="${taskQueue}"`)) continue;
    pollers += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return pollers;
}

export async function checkWorkerReady(env: NodeJS.ProcessEnv = process.env): Promise<{ ready: boolean; reason: string }> {
  const config = loadConfig(env);
  if (!config.WORKER_METRICS_PORT) return { ready: false, reason: 'WORKER_METRICS_PORT is not set: readiness is read from the worker metrics' };
  const host = config.WORKER_METRICS_HOST === '0.0.0.0' ? '127.0.0.1' : config.WORKER_METRICS_HOST;
  try {
    const response = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${config.WORKER_METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(3000) });
    const pollers = workflowTaskPollers(await response.text(), config.TEMPORAL_TASK_QUEUE);
    return pollers > 0
      ? { ready: true, reason: `${pollers} workflow-task pollers on ${config.TEMPORAL_TASK_QUEUE}` }
      : { ready: false, reason: `not polling ${config.TEMPORAL_TASK_QUEUE} yet` };
  } catch (error) {
    return { ready: false, reason: `metrics endpoint unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
