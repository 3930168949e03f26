// Background processes of the cluster: started detached with their output in a log file and their pid in a pid file
// of the state folder, so `down` and `status` find them from any later command. Root hands each one to an
// unprivileged account (node's spawn uid/gid: the process execs directly, so the pid file holds the server's own pid).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export { tcpOpen } from '../../workers/dev-server.js';

export const sleep = (ms: number) => new Promise((wait) => setTimeout(wait, ms));

/** Whether the process runs: an exited one not yet reaped (a zombie; this machine's pid 1 reaps late) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** An account from the passwd database, or null. */
export function account(name: string): Account | null {
  try {
    const [, , uid, gid, , home] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
    return { name, uid: Number(uid), gid: Number(gid), home };
  } catch {
    return null;
  }
}

export const runningAsRoot = () => process.getuid?.() === 0;

/**
 * Throws unless `account` may enter every folder from / down to `dir` (its processes run there and read their files
 * from there): a checkout under root's home, for instance, is closed to `postgres` and `nobody`.
 */
export function assertReachable(dir: string, account: Account, setting: string): void {
  for (let folder = dir; ; folder = dirname(folder)) {
    const stat = statSync(folder);
    const bit = stat.uid === account.uid ? 0o100 : stat.gid === account.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) {
      throw new Error(`${folder} is closed to the '${account.name}' account the cluster runs as, so it cannot reach ${dir}: set ${setting} to a folder it can reach (e.g. under /var/tmp)`);
    }
    if (folder === dirname(folder)) return;
  }
}

export interface StateLayout {
  run: string;
  logs: string;
  pidFile(name: string): string;
  logFile(name: string): string;
}

export function stateLayout(stateDir: string): StateLayout {
  const run = join(stateDir, 'run');
  const logs = join(stateDir, 'logs');
  return { run, logs, pidFile: (name) => join(run, `${name}.pid`), logFile: (name) => join(logs, `${name}.log`) };
}

export interface Daemon {
  name: string;
  pid: number;
}

/** The pid recorded for `name` if that process still runs the expected program (a reused pid is not ours). */
export function runningPid(layout: StateLayout, name: string, program?: string): number | null {
  const file = layout.pidFile(name);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  if (program && !commandLine(pid).some((arg) => basename(arg) === basename(program) || arg === program)) return null;
  return pid;
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export interface DaemonOptions {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this account (only when we are root). */
  as?: Account | null;
}

/** Starts a detached process logging to logs/<name>.log and records its pid in run/<name>.pid. */
export function startDaemon(layout: StateLayout, name: string, options: DaemonOptions): Daemon {
  mkdirSync(layout.run, { recursive: true });
  mkdirSync(layout.logs, { recursive: true });
  const log = openSync(layout.logFile(name), 'a');
  const as = runningAsRoot() ? options.as : null;
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, ...(as ? { HOME: as.home, USER: as.name, LOGNAME: as.name } : {}), ...(options.env ?? {}) },
      stdio: ['ignore', log, log],
      detached: true,
      ...(as ? { uid: as.uid, gid: as.gid } : {}),
    });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${options.command})`);
    child.unref();
    writeFileSync(layout.pidFile(name), `${child.pid}\n`);
    return { name, pid: child.pid };
  } finally {
    closeSync(log);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone and its pid file removed. */
export async function stopPid(layout: StateLayout, name: string, pid: number, graceMs = 15_000): Promise<void> {
  // kill(0 or negative) would signal whole process groups.
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`refusing to signal pid ${pid} (${name})`);
  const deadline = Date.now() + graceMs;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(layout.pidFile(name), { force: true });
}

/** Waits until `check` holds; throws `what` with the log's tail when `alive` turns false or time runs out. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; alive?: () => boolean; logFile?: string; lastError?: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    const died = options.alive && !options.alive();
    if (died || Date.now() > deadline) {
      const tail = options.logFile && existsSync(options.logFile) ? `\n${options.logFile}:\n${readFileSync(options.logFile, 'utf8').split('\n').slice(-25).map((line) => line.slice(0, 400)).join('\n')}` : '';
      const last = options.lastError?.() ? ` (last answer: ${options.lastError()})` : '';
      throw new Error(`${what}: ${died ? 'the process exited' : `not after ${options.timeoutMs / 1000} s`}${last}${tail}`);
    }
    await sleep(250);
  }
}
