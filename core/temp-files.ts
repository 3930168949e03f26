// Temp files of atomic writes carry their writer (host and pid), so a later write of the same destination can remove
// the ones a killed process left behind without touching a write still in progress elsewhere.
import { readdir, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

const HOST = hostname().replace(/[^\w.-]/g, '_');

/** `<destination>.<host>~<pid>~<uuid>.tmp` */
export function temporaryPathFor(destination: string): string {
  return `${destination}.${HOST}~${process.pid}~${randomUUID()}.tmp`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp siblings of `destination` written by processes of this host that no longer run (killed mid-write).
 * Temp files of other hosts (workers in other containers on a shared volume) are left alone: their pids mean nothing here.
 */
export async function removeOrphanedTemporaries(destination: string): Promise<void> {
  const prefix = `${basename(destination)}.${HOST}~`;
  let names: string[];
  try {
    names = await readdir(dirname(destination));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('~')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      await rm(join(dirname(destination), name), { recursive: true, force: true });
    }
  }
}
