// Runs a candidate's fit (candidate-fit.ts) on a worker thread, so the seconds libxgboost spends in one boosting
// round (a random forest is one round of 100 trees) never hold the worker's event loop: workflow tasks, heartbeats
// and other activities keep running on it. A fit runs whole on one thread (libxgboost 1.7 keeps per-thread prediction
// caches, so every call for a booster must come from the thread that made it). Threads are kept for the next fit:
// starting one (loader, modules, libxgboost binding) costs ~0.4 CPU s. Progress comes back per boosting round; a
// progress callback that throws (a cancelled activity) stops the fit before its next round.
import { AsyncResource } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvalidModelArtifact } from '../../lib/errors.js';
import { XGBoostError } from '../../lib/errors.js';
import { transferList } from '../transferable.js';
import { preferPassiveOpenMpWait } from '../xgboost/native.js';
import type { AttributionInput, CandidateFit, CandidateFitInput, CandidateFitProgress } from './candidate-fit.js';
import type { AttributionBaseline } from '../../lib/contracts.js';

/** A fit, or the attribution baseline of a fitted candidate (TreeSHAP: as long as a fit, so on a fit thread too). */
export type FitJob = {
  id: number;
  /** Set to 1 by the parent to stop the fit between two boosting rounds. */
  stop: Int32Array;
  /** Fits of this process running now (shared by all its fit threads): each uses its share of the cores. */
  fitsRunning: Int32Array;
} & ({ kind: 'fit'; input: CandidateFitInput } | { kind: 'attribute'; input: AttributionInput });

export type FitMessage = { id: number } & (
  | { kind: 'progress'; progress: CandidateFitProgress }
  | { kind: 'done'; fit: CandidateFit }
  | { kind: 'attributed'; attribution: AttributionBaseline }
  | { kind: 'failed'; error: { name: string; message: string; stack?: string } }
);

const WORKER_ENTRY = new URL(`./candidate-fit-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
/** Idle threads kept beyond that are ended: fits run in parallel up to the activity slots, but rarely more than the cores. */
const MAX_IDLE_THREADS = availableParallelism();
const idle: Worker[] = [];
let nextJobId = 0;
/**
 * Fits running on this process's threads. Three families fitted at once on 2 threads each oversubscribed the cores:
 * libxgboost's threads wait for each other at every step of a tree, so a fit now runs on cores ÷ fits running
 * (at least one) threads, set again before each boosting round, and one left alone gets its parameters' nthread.
 */
const fitsRunning = new Int32Array(new SharedArrayBuffer(4));

function startFitThread(): Worker {
  preferPassiveOpenMpWait(); // measured: fits on threads spun 3-10x the CPU without it under load
  // Run from TypeScript (node --import tsx): in Node 20 the tsx loader does not reach worker threads, by execArgv
  // either, so the thread registers it before importing its entry.
  // Compiled (the image), tsx is not installed at all: only the TypeScript entry resolves it.
  const bootstrap = () =>
    `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_ENTRY.href)}); })`;
  const worker = WORKER_ENTRY.pathname.endsWith('.ts') ? new Worker(bootstrap(), { eval: true }) : new Worker(WORKER_ENTRY);
  // A thread that fails or ends is never handed out again (and its failure while idle does not crash the process).
  const forget = () => {
    const index = idle.indexOf(worker);
    if (index >= 0) idle.splice(index, 1);
  };
  worker.on('error', forget);
  worker.on('exit', forget);
  return worker;
}

/** Back to the idle threads once its fit has ended (not merely been given up on); unref'd so it holds no process open. */
function release(worker: Worker): void {
  if (idle.length >= MAX_IDLE_THREADS) {
    void worker.terminate();
    return;
  }
  worker.unref();
  idle.push(worker);
}

/** The error a fit failed with, as its own class where callers tell classes apart (failure types). */
function rebuildError(error: { name: string; message: string; stack?: string }): Error {
  const rebuilt =
    error.name === 'InvalidModelArtifact' ? new InvalidModelArtifact(error.message) : error.name === 'XGBoostError' ? new XGBoostError(error.message) : new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

/** Fits on a thread; the splits' `data` is handed over (transferred): the caller must not read it afterwards. */
export function fitCandidateOnThread(input: CandidateFitInput, onProgress?: (progress: CandidateFitProgress) => void): Promise<CandidateFit> {
  return runOnThread<CandidateFit>(
    { kind: 'fit', input },
    Object.values(input.splits).map((matrix) => matrix.data),
    (message) => (message.kind === 'done' ? message.fit : undefined),
    onProgress,
  );
}

/**
 * A fitted candidate's attribution baseline, computed on a fit thread (TreeSHAP of a forest takes seconds: never on
 * the worker's event loop); the matrices' `data` is handed over (transferred).
 */
export function attributeOnThread(input: AttributionInput): Promise<AttributionBaseline> {
  return runOnThread<AttributionBaseline>(
    { kind: 'attribute', input },
    [input.train.data, input.oot.data],
    (message) => (message.kind === 'attributed' ? message.attribution : undefined),
  );
}

/** Runs a job on an idle (or new) fit thread: its result is what `resultOf` finds in the thread's final message. */
function runOnThread<T>(
  work: { kind: 'fit'; input: CandidateFitInput } | { kind: 'attribute'; input: AttributionInput },
  buffers: ArrayBufferView[],
  resultOf: (message: FitMessage) => T | undefined,
  onProgress?: (progress: CandidateFitProgress) => void,
): Promise<T> {
  const worker = idle.pop() ?? startFitThread();
  worker.ref();
  // The thread's messages arrive outside the caller's async context: the callback is bound to it (an activity's
  // heartbeat finds its activity through that context).
  const report = onProgress && AsyncResource.bind(onProgress);
  const job: FitJob = { id: ++nextJobId, ...work, stop: new Int32Array(new SharedArrayBuffer(4)), fitsRunning };
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    Atomics.add(fitsRunning, 0, 1);
    const finish = () => {
      Atomics.sub(fitsRunning, 0, 1);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: FitMessage) => {
      if (message.id !== job.id) return;
      if (message.kind === 'progress') {
        try {
          if (!settled) report?.(message.progress);
        } catch (error) {
          // Given up on now; the thread stops at its next round and reports, then serves the next fit.
          Atomics.store(job.stop, 0, 1);
          settle(() => reject(error));
        }
        return;
      }
      finish();
      release(worker);
      if (message.kind === 'failed') settle(() => reject(rebuildError(message.error)));
      else settle(() => resolve(resultOf(message) as T));
    };
    const onError = (error: Error) => {
      finish();
      void worker.terminate();
      settle(() => reject(error));
    };
    const onExit = (code: number) => {
      finish();
      settle(() => reject(new Error(`candidate fit thread exited with code ${code} before its result`)));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    // The matrices move to the thread rather than being copied (a copy per fit was gigabytes at 100 × the data).
    // A matrix whose buffer Node will not move (transferable.ts) is copied instead.
    try {
      worker.postMessage(job, transferList(buffers));
    } catch (error) {
      // Never reached the thread (e.g. a buffer that cannot move): the fit is not running, the thread is free.
      finish();
      release(worker);
      settle(() => reject(error));
    }
  });
}
