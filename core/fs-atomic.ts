// Atomic file and directory writes: a reader never sees a half-written artifact, report or registry.
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { removeOrphanedTemporaries, temporaryPathFor } from './temp-files.js';
import { diskFullOr } from './disk-full.js';

export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryPathFor(path);
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
    await removeOrphanedTemporaries(path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw await diskFullOr(error, path, { bytes: Buffer.byteLength(content) });
  }
}

/**
 * Writes `content` beside `path` now and publishes it later: `commit` renames it into place (a rename needs no new
 * space), `discard` removes it. Lets a writer find a full disk before it changes anything it would have to undo.
 */
export async function prepareFileAtomic(path: string, content: string | Uint8Array): Promise<{ commit: () => Promise<void>; discard: () => Promise<void> }> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryPathFor(path);
  try {
    await writeFile(temporary, content);
  } catch (error) {
    await rm(temporary, { force: true });
    throw await diskFullOr(error, path, { bytes: Buffer.byteLength(content) });
  }
  return {
    commit: async () => {
      await rename(temporary, path);
      await removeOrphanedTemporaries(path);
    },
    discard: () => rm(temporary, { force: true }),
  };
}

/** Errors of link() that mean "no hard link here" (another file system, or one without them): a copy does instead. */
const LINK_REFUSED = ['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK', 'ENOSYS'];

/**
 * Makes `target` (which must not exist) the file `source` is now: a hard link (no copy of the data), or a copy where
 * the file system refuses the link. Either way a later replacement of `source` (a rename over it) leaves `target` as it
 * was. Only for files that are never modified in place.
 */
export async function linkOrCopy(source: string, target: string): Promise<void> {
  await link(source, target).catch(async (error: NodeJS.ErrnoException) => {
    if (!LINK_REFUSED.includes(error.code ?? '')) throw error;
    await copyFile(source, target);
  });
}

/**
 * Publishes the existing file `source` also as `destination`, atomically: linkOrCopy beside the destination, renamed
 * over it. Only for files that are never modified in place (each write of either path replaces its file, as
 * writeParquetAtomic does).
 */
export async function linkFileAtomic(source: string, destination: string): Promise<void> {
  await mkdir(dirname(destination), { recursive: true });
  const temporary = temporaryPathFor(destination);
  try {
    await linkOrCopy(source, temporary);
    await rename(temporary, destination);
    // A rename between two links of one file does nothing (POSIX): the destination already was this file.
    await rm(temporary, { force: true });
    await removeOrphanedTemporaries(destination);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Fills a fresh temporary directory with `fill`, then renames it to `destination`. When `destination` already
 * exists (same content written before, or by a concurrent attempt) the temporary copy is dropped and false returned.
 */
export async function publishDirectory(destination: string, fill: (dir: string) => Promise<void>): Promise<boolean> {
  await mkdir(dirname(destination), { recursive: true });
  const temporary = temporaryPathFor(destination);
  await mkdir(temporary, { recursive: true });
  try {
    await fill(temporary);
    try {
      await rename(temporary, destination);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    await rm(temporary, { recursive: true, force: true });
    await removeOrphanedTemporaries(destination);
  }
}
