// What postMessage may move to another thread rather than copy. Node 22 and later refuse (DataCloneError "Cannot
// transfer object of unsupported type") to transfer an ArrayBuffer they mark untransferable: the Buffer pool small
// Buffers share (protobufjs' encoded messages, Buffer.from of a short string) and memory allocated outside
// JavaScript (koffi's views of native memory). Node 20 copied those silently, so code written against it failed only
// on newer Nodes. Node 20 has no isMarkedAsUntransferable and needs none.
import * as workerThreads from 'node:worker_threads';

const isMarkedAsUntransferable: (object: object) => boolean =
  (workerThreads as { isMarkedAsUntransferable?: (object: object) => boolean }).isMarkedAsUntransferable ?? (() => false);

/**
 * The transfer list for a message carrying `views`: their buffers, each once, except those this Node refuses to
 * transfer and shared memory (never transferred); postMessage copies the views on those (structured clone) instead.
 */
export function transferList(views: Iterable<ArrayBufferView>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { buffer } of views) {
    if (buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(buffer)) buffers.add(buffer);
  }
  return [...buffers];
}
