// Reads and checks a source CSV's header line in Node before DuckDB sees the file: DuckDB's sniffer guesses on
// small or odd files, so the ETL reads with an explicit all-VARCHAR schema taken from this header instead.
import { open, stat } from 'node:fs/promises';
import { InvalidSourceData } from '../../lib/errors.js';

const HEADER_PROBE_BYTES = 64 * 1024;

export interface SourceFileInfo {
  path: string;
  size: number;
  mtimeMs: number;
  /** Status-change time and inode: what `touch -d` cannot set back, so an edit keeping size and mtime is still seen. */
  ctimeMs: number;
  ino: number;
  columns: string[];
}

export async function inspectSourceFile(path: string, required: readonly string[]): Promise<SourceFileInfo> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new InvalidSourceData({ file: path }, 'source file not found');
    throw new InvalidSourceData({ file: path }, `source file cannot be read: ${error.message}`);
  });
  if (!info.isFile()) throw new InvalidSourceData({ file: path }, 'source path is not a file');
  if (info.size === 0) throw new InvalidSourceData({ file: path, line: 1 }, 'file is empty (no header line)');

  const handle = await open(path, 'r');
  let bytes: Buffer;
  try {
    const buffer = Buffer.alloc(Math.min(HEADER_PROBE_BYTES, info.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const newline = bytes.indexOf(0x0a);
  const headerBytes = newline === -1 ? bytes : bytes.subarray(0, newline);
  let header: string;
  try {
    header = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new InvalidSourceData({ file: path, line: 1 }, 'header line is not valid UTF-8');
  }
  const columns = splitHeader(header.replace(/^\uFEFF/, '').replace(/\r$/, ''));
  if (columns.length === 0 || columns.every((column) => column === '')) {
    throw new InvalidSourceData({ file: path, line: 1 }, 'header line is empty');
  }
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === '') throw new InvalidSourceData({ file: path, line: 1 }, 'header has an empty column name');
    if (seen.has(column)) throw new InvalidSourceData({ file: path, column, line: 1 }, 'column name appears twice in the header');
    seen.add(column);
  }
  for (const column of required) {
    if (!seen.has(column)) {
      throw new InvalidSourceData({ file: path, column, line: 1 }, `required column is missing (header: ${columns.join(',')})`);
    }
  }
  return { path, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino, columns };
}

/** Splits a CSV header line on commas outside double quotes, unquoting names. */
export function splitHeader(line: string): string[] {
  const names: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      names.push(current.trim());
      current = '';
    } else current += char;
  }
  names.push(current.trim());
  return names;
}
