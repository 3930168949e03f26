// `npm run <script>` as a child process, with every process of its tree recorded while it runs, so a test can signal
// the npm process alone (as `kill -INT <pid>` would) and check that nothing of the tree outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { waitUntil } from './wait.js';

export interface NpmRun {
  process: ChildProcess;
  output(): string;
  /** Resolves once `text` has been printed; rejects when the process exits first or after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal) once npm has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every pid seen in the tree under npm (npm itself included). */
  seen: Set<number>;
}

function parentOf(pid: number): number | null {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** Every live process whose ancestry reaches `root`. */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent !== null) parents.set(pid, parent);
  }
  return [...parents.keys()].filter((pid) => {
    for (let current = parents.get(pid); current !== undefined && current > 1; current = parents.get(current)) {
      if (current === root) return true;
    }
    return false;
  });
}

/** Alive and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function npmRun(args: string[], env: Record<string, string>): NpmRun {
  const child = spawn('npm', ['run', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const seen = new Set<number>([child.pid!]);
  const watch = setInterval(() => descendants(child.pid!).forEach((pid) => seen.add(pid)), 100);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => {
      clearInterval(watch);
      done({ code, signal });
    }),
  );
  const waitFor = async (text: string | RegExp, timeoutMs = 180_000) => {
    await waitUntil(`npm run ${args[0]} to print ${text}`, () => {
      if (typeof text === 'string' ? output.includes(text) : text.test(output)) return true;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm run ${args[0]} exited before printing ${text}:\n${output.slice(-3000)}`);
      return false;
    }, { timeoutMs, lastSeen: () => output.slice(-3000) });
  };
  return { process: child, output: () => output, waitFor, exited, seen };
}
