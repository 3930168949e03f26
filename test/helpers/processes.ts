// Worker processes for tests that need real separate processes (scale-out, kill -9): started with the project's
// own `workers/main.ts`, stopped (or killed) by the test, never left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT, stopProcess } from '../../core/temporal/dev-server.js';
import type { Config } from '../../lib/config.js';

export interface WorkerProcess {
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startWorkerProcess(address: string, config: Config, extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      DATAMART_DIR: config.DATAMART_DIR,
      MODEL_BANK_DIR: config.MODEL_BANK_DIR,
      REPORTS_DIR: config.REPORTS_DIR,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  // Ready once it says it is polling (after bundling the workflows).
  const deadline = Date.now() + 60_000;
  while (!output.includes('polling task queue')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker process did not start:\n${output}`);
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
  return { process: child, output: () => output, stop: () => stopProcess(child, 20_000) };
}
