// A file's identity as the kernel reports it: any write or replacement (an atomic rename puts another inode in place)
// changes it, to the nanosecond.
import { stat } from 'node:fs/promises';

/** Device, inode, size, modification and change times (ns) of `path`; rejects when it is missing. */
export async function fileIdentity(path: string): Promise<string> {
  const s = await stat(path, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}
