// Worker-thread entry of candidate-fit-thread.ts: runs fits one after another, each posting its progress, then its
// result or its error, tagged with the job's id. The parent stops a fit through the job's shared flag, checked
// between boosting rounds; the thread then takes the next job.
import { availableParallelism } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { transferList } from '../transferable.js';
import { attributeCandidate, fitCandidate } from './candidate-fit.js';
import type { FitJob, FitMessage } from './candidate-fit-thread.js';

const port = parentPort!;
const cores = availableParallelism();
port.on('message', (job: FitJob) => {
  const { id, stop, fitsRunning } = job;
  const post = (message: FitMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  try {
    if (job.kind === 'attribute') {
      post({ id, kind: 'attributed', attribution: attributeCandidate(job.input) });
      return;
    }
    const fit = fitCandidate(
      job.input,
      (progress) => post({ id, kind: 'progress', progress }),
      () => Atomics.load(stop, 0) !== 0,
      () => Math.max(1, Math.floor(cores / Math.max(1, Atomics.load(fitsRunning, 0)))),
    );
    // Scores and ONNX bytes move rather than copy, except where Node refuses to move their buffer (transferable.ts):
    // the ONNX bytes of a small model sit in the Buffer pool.
    post({ id, kind: 'done', fit }, transferList([...Object.values(fit.scores), fit.onnx]));
  } catch (error) {
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    post({ id, kind: 'failed', error: { name, message, stack } });
  }
});
