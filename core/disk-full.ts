// Recognises a write that ran out of space (Node's ENOSPC, or DuckDB's "No space left on device" from a COPY) and
// turns it into DiskFull naming the path, the space the write needed and the space free (lib/errors.ts).
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DiskFull } from '../lib/errors.js';

export function isDiskFull(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if ((current as NodeJS.ErrnoException).code === 'ENOSPC' || /No space left on device|ENOSPC/i.test(current.message)) return true;
  }
  return false;
}

async function bytesFreeAt(path: string): Promise<number | null> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      const fs = await statfs(dir);
      return Number(fs.bavail) * Number(fs.bsize);
    } catch {
      if (dirname(dir) === dir) return null;
    }
  }
}

/**
 * DiskFull for `path` when `error` is one, else `error` itself. `needed`: the write's size when known (`bytes`), an
 * estimate (`about`), or else what the partial file had reached (`partial`), a lower bound, or the size of the file
 * it replaces (a rewrite is about as big), whichever is larger.
 */
export async function diskFullOr(error: unknown, path: string, needed: { bytes?: number; about?: number; partial?: string } = {}): Promise<unknown> {
  if (!isDiskFull(error) || error instanceof DiskFull) return error;
  const free = await bytesFreeAt(path);
  if (needed.bytes !== undefined) return new DiskFull(path, needed.bytes, free, 'exact');
  if (needed.about !== undefined) return new DiskFull(path, needed.about, free, 'about');
  const size = (file: string | undefined) => (file ? stat(file).then((s) => s.size, () => 0) : Promise.resolve(0));
  const partial = await size(needed.partial);
  const previous = await size(path);
  return previous > partial ? new DiskFull(path, previous, free, 'about') : new DiskFull(path, partial + 1, free, 'at least');
}
