// Pieces of the cluster tests: whether a cluster can be had here, a free block of ports, `npm run cluster` as a
// child process on a private state folder, the pipeline run as the demo runs it, and who owns a process.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../../lib/config.js';
import { LIFECYCLE_WORKFLOW_ID, workflowIds } from '../../lib/temporal.js';
import { monthRange } from '../../lib/months.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { goAvailable, serverBuilt, uiBuilt } from '../../scripts/cluster/binaries.js';
import { postgresObtainable } from '../../scripts/cluster/postgres.js';
import { loadClusterSettings, servicePorts, type ClusterSettings } from '../../scripts/cluster/settings.js';
import { ensureLifecycle } from '../../scripts/client.js';
import { monitoringWorkflow, type MonitoringResult } from '../../workflows/monitoring.js';
import { FROM, TO, runHistory, resultThroughOutages, startBackfill, BACKFILL_ID } from '../chaos/harness.js';
import type { BackfillResult } from '../../workflows/backfill.js';
import type { HistoryResult } from '../../workflows/historical-inference.js';
import { addHistory, emptyTiming } from '../../tools/bench/history-timing.js';

const run = promisify(execFile);

/** Null when a cluster can be brought up here; else why not (PostgreSQL or Go missing). */
export async function whyNoCluster(): Promise<string | null> {
  if (!(await postgresObtainable())) return 'PostgreSQL is not installed and cannot be (apt-get as root)';
  if (!((await serverBuilt()) && (await uiBuilt())) && !(await goAvailable())) return "the Temporal server is not built and 'go' is not on PATH to build it";
  return null;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** Settings on a private state folder and a free block of ports (the frontend's block, the UI's, PostgreSQL's). */
export async function privateClusterSettings(): Promise<ClusterSettings> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const frontend = 20_000 + Math.floor(Math.random() * 1_200) * 10;
    const ports = [...Object.values(servicePorts(frontend)).flatMap((p) => Object.values(p)), frontend + 200, frontend + 201];
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) {
      return loadClusterSettings({
        CLUSTER_FRONTEND_PORT: String(frontend),
        CLUSTER_UI_PORT: String(frontend + 200),
        CLUSTER_POSTGRES_PORT: String(frontend + 201),
        // Under the system temp folder: PostgreSQL and the services run as other accounts, which a checkout under a
        // private home would shut out.
        CLUSTER_STATE_DIR: join(tmpdir(), `credit-pipeline-cluster-${randomUUID().slice(0, 8)}`),
        CLUSTER_LOG_LEVEL: 'warn',
      });
    }
  }
  throw new Error('no free block of ports for a test cluster');
}

export function clusterEnvironment(settings: ClusterSettings): Record<string, string> {
  return {
    CLUSTER_FRONTEND_PORT: String(settings.frontendPort),
    CLUSTER_UI_PORT: String(settings.uiPort),
    CLUSTER_POSTGRES_PORT: String(settings.postgresPort),
    CLUSTER_STATE_DIR: settings.stateDir,
    CLUSTER_LOG_LEVEL: settings.logLevel,
  };
}

/** `npm run cluster -- <args>` (the script itself, setup having run) against the private settings. */
export async function clusterCommand(settings: ClusterSettings, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...clusterEnvironment(settings) },
      timeout: 40 * 60_000,
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`cluster ${args.join(' ')} failed: ${failure.message}\n${failure.stdout ?? ''}${failure.stderr ?? ''}`, { cause: error });
  }
}

/** The real user id a process runs as (from /proc). */
export function processUid(pid: number): number {
  const match = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no Uid line for pid ${pid}`);
  return Number(match[1]);
}

export interface PipelineRun {
  backfill: BackfillResult;
  history: HistoryResult;
  monitoring: MonitoringResult;
}

/** Phase 1, phase 2 and monitoring over FROM..TO as the demo runs them; model-lifecycle is terminated afterwards. */
export async function runPipeline(client: Client, config: Config, sourceDir: string, timeoutMs: number): Promise<PipelineRun> {
  await ensureLifecycle(client, config);
  try {
    await startBackfill(client, config, sourceDir);
    const backfill = await resultThroughOutages<BackfillResult>(client, BACKFILL_ID, timeoutMs);
    const history = await runHistory(client, config, timeoutMs);
    const monitoring = await client.workflow.execute(monitoringWorkflow, {
      workflowId: workflowIds.monitoring(TO),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ asOf: TO, from: FROM }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return { backfill, history, monitoring };
  } finally {
    await client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).terminate('pipeline run over').catch(() => undefined);
  }
}

/** Over the given workflows' histories: activity attempts per worker identity, and retried attempts per activity type. */
export async function activityAttempts(client: Client, workflowIdList: string[]): Promise<{ identities: Record<string, number>; retries: Record<string, number> }> {
  const identities: Record<string, number> = {};
  const timing = emptyTiming();
  for (const id of workflowIdList) {
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    addHistory(timing, events);
    for (const event of events) {
      const identity = event.activityTaskStartedEventAttributes?.identity;
      if (identity) identities[identity] = (identities[identity] ?? 0) + 1;
    }
  }
  const retries = Object.fromEntries(Object.entries(timing.activities).filter(([, a]) => a.retries > 0).map(([name, a]) => [name, a.retries]));
  return { identities, retries };
}

/** The child workflows of a backfill + phase 2 over FROM..TO: months, scoring, training. */
export function pipelineWorkflowIds(backfill: BackfillResult): string[] {
  const modelId = backfill.training?.modelId;
  const months = monthRange(FROM, TO);
  return [
    ...months.map(workflowIds.month),
    ...(modelId ? months.map((month) => workflowIds.scoreMonth(month, modelId)) : []),
    ...(backfill.training?.workflowId ? [backfill.training.workflowId] : []),
  ];
}
