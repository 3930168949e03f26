// The project's worker (`workers/main.ts`) as a child process, so a bench can read its peak memory from the kernel
// (VmHWM in /proc/<pid>/status, the high-water mark of resident memory) and a chaos test can SIGKILL it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT, stopProcess } from './dev-server.js';
import type { Config } from '../lib/config.js';

export interface WorkerChild {
  process: ChildProcess;
  pid: number;
  /** Everything the worker printed so far. */
  output(): string;
  /** Highest VmHWM seen (bytes); the kernel keeps the peak, polling only has to catch it before exit. */
  peakRssBytes(): number;
  /** Highest sampled VmRSS and when (epoch ms): tells which stage the peak belongs to. */
  rssPeakSample(): { bytes: number; at: number };
  /** SIGTERM (graceful: in-flight activities finish), SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now, resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Reads a kB figure such as VmHWM or VmRSS from /proc/<pid>/status; null when the process is gone or not Linux. */
export function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface StartWorkerChildOptions {
  address: string;
  config: Config;
  extraEnv?: Record<string, string>;
  /** Milliseconds to wait for "polling task queue" (bundling the workflows takes seconds). */
  readyTimeoutMs?: number;
  pollMs?: number;
}

export async function startWorkerChild(options: StartWorkerChildOptions): Promise<WorkerChild> {
  const { address, config } = options;
  // node itself runs the worker (tsx as a loader), so the pid is the worker's own, not a wrapper's.
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      DATAMART_DIR: config.DATAMART_DIR,
      MODEL_BANK_DIR: config.MODEL_BANK_DIR,
      REPORTS_DIR: config.REPORTS_DIR,
      MAX_QUARANTINE_SHARE: String(config.MAX_QUARANTINE_SHARE),
      ...(config.WORKER_MAX_CONCURRENT_ACTIVITIES ? { WORKER_MAX_CONCURRENT_ACTIVITIES: String(config.WORKER_MAX_CONCURRENT_ACTIVITIES) } : {}),
      ...(options.extraEnv ?? {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn the worker process');
  const pid = child.pid;
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));

  let peak = 0;
  let rssPeak = { bytes: 0, at: 0 };
  const sample = () => {
    const hwm = procStatusBytes(pid, 'VmHWM');
    if (hwm !== null && hwm > peak) peak = hwm;
    const rss = procStatusBytes(pid, 'VmRSS');
    if (rss !== null && rss > rssPeak.bytes) rssPeak = { bytes: rss, at: Date.now() };
  };
  const poller = setInterval(sample, options.pollMs ?? 250);
  poller.unref();
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  void gone.then(() => clearInterval(poller));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  while (!output.includes('polling task queue')) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      clearInterval(poller);
      throw new Error(`worker process did not start:\n${output.slice(-4000)}`);
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }

  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    process: child,
    pid,
    output: () => output,
    peakRssBytes: () => {
      if (!exited()) sample();
      return peak;
    },
    rssPeakSample: () => rssPeak,
    stop: async (graceMs = 30_000) => {
      if (!exited()) sample();
      await stopProcess(child, graceMs);
    },
    kill: async () => {
      if (exited()) return;
      sample();
      child.kill('SIGKILL');
      await gone;
    },
  };
}
