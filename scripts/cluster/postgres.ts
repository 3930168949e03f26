// A private PostgreSQL cluster for Temporal: Debian's server binaries (installed with apt when missing), a data folder
// in the state folder, its own port on 127.0.0.1 only, no Unix socket, password (SCRAM) authentication for the
// `temporal` role. initdb refuses root: as root, every PostgreSQL command runs as the `postgres` account.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { POSTGRES_USER, type ClusterSettings } from './settings.js';
import { account, isAlive, runningAsRoot, sleep, type Account, type StateLayout } from './processes.js';

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The bin folder of the newest Debian PostgreSQL server installed, or null. */
export function postgresBinDir(): string | null {
  if (!existsSync(POSTGRES_ROOT)) return null;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((version) => existsSync(join(POSTGRES_ROOT, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(POSTGRES_ROOT, versions[0], 'bin') : null;
}

/** Whether PostgreSQL is here or can be installed (root with apt-get): what the cluster test asks before running. */
export async function postgresObtainable(): Promise<boolean> {
  if (postgresBinDir()) return true;
  if (!runningAsRoot()) return false;
  try {
    await run('apt-get', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export async function ensurePostgresInstalled(log: (line: string) => void): Promise<string> {
  const found = postgresBinDir();
  if (found) return found;
  if (!runningAsRoot()) {
    throw new Error(`PostgreSQL's server is not installed (no ${POSTGRES_ROOT}/*/bin/initdb): as root, apt-get install postgresql`);
  }
  log('installing PostgreSQL (apt-get install postgresql)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], { env, maxBuffer: 64 << 20 });
  try {
    await install();
  } catch {
    await run('apt-get', ['update', '-q'], { env, maxBuffer: 64 << 20 });
    await install();
  }
  const installed = postgresBinDir();
  if (!installed) throw new Error('apt-get installed postgresql but no initdb was found under /usr/lib/postgresql');
  return installed;
}

export interface PostgresCluster {
  bin: string;
  dataDir: string;
  logFile: string;
  port: number;
  password: string;
  /** The OS account PostgreSQL runs as (null: the current, non-root user). */
  owner: Account | null;
}

function owner(): Account | null {
  if (!runningAsRoot()) return null;
  const postgres = account('postgres');
  if (!postgres) throw new Error("running as root, PostgreSQL needs the 'postgres' account (Debian's postgresql package creates it)");
  return postgres;
}

/** A command as the cluster's owner, from a folder it can enter. */
function asOwner(cluster: Pick<PostgresCluster, 'owner' | 'dataDir'>, program: string, args: string[]) {
  const as = cluster.owner;
  return run(program, args, {
    cwd: join(cluster.dataDir, '..'),
    env: { ...process.env, ...(as ? { HOME: as.home, USER: as.name, LOGNAME: as.name } : {}) },
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
    maxBuffer: 16 << 20,
  });
}

/** The generated password of the `temporal` role, kept readable by its owner only. */
function clusterPassword(stateDir: string): string {
  const file = join(stateDir, 'secrets', 'postgres-password');
  if (!existsSync(file)) {
    mkdirSync(join(stateDir, 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** Installs the server when missing and creates the data folder on the first call; does not start it. */
export async function preparePostgres(settings: ClusterSettings, layout: StateLayout, log: (line: string) => void): Promise<PostgresCluster> {
  const bin = await ensurePostgresInstalled(log);
  const cluster: PostgresCluster = {
    bin,
    dataDir: join(settings.stateDir, 'postgres'),
    logFile: layout.logFile('postgres'),
    port: settings.postgresPort,
    password: clusterPassword(settings.stateDir),
    owner: owner(),
  };
  const chown = (path: string) => cluster.owner && chownSync(path, cluster.owner.uid, cluster.owner.gid);
  mkdirSync(layout.logs, { recursive: true });
  closeSync(openSync(cluster.logFile, 'a'));
  chown(cluster.logFile);
  if (!existsSync(join(cluster.dataDir, 'PG_VERSION'))) {
    log(`initialising a PostgreSQL cluster in ${cluster.dataDir}`);
    rmSync(cluster.dataDir, { recursive: true, force: true });
    mkdirSync(cluster.dataDir, { recursive: true, mode: 0o700 });
    chown(cluster.dataDir);
    const passwordFile = join(layout.run, 'initdb-password');
    mkdirSync(layout.run, { recursive: true });
    writeFileSync(passwordFile, cluster.password, { mode: 0o600 });
    chown(passwordFile);
    try {
      await asOwner(cluster, join(bin, 'initdb'), [
        '-D', cluster.dataDir, '-U', POSTGRES_USER, `--pwfile=${passwordFile}`,
        '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--no-locale',
      ]);
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }
  chmodSync(cluster.dataDir, 0o700);
  return cluster;
}

/** The pid a postmaster.pid names, alive or not; null without the file. */
function lockFilePid(cluster: Pick<PostgresCluster, 'dataDir'>): number | null {
  const file = join(cluster.dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** The postmaster's pid from its pid file, if that process is alive. */
export function postgresPid(cluster: Pick<PostgresCluster, 'dataDir'>): number | null {
  const pid = lockFilePid(cluster);
  return pid !== null && isAlive(pid) ? pid : null;
}

/**
 * The processes still running in the data directory (every PostgreSQL process works there) while no postmaster is
 * alive: the backends of a postmaster that was killed. Until they are gone the shared memory block they hold is "still
 * in use" and a new postmaster refuses to start.
 */
function orphanedBackends(cluster: Pick<PostgresCluster, 'dataDir'>): number[] {
  const dataDir = realpathSync(cluster.dataDir);
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres' && readlinkSync(`/proc/${pid}/cwd`) === dataDir;
      } catch {
        return false; // gone, or not ours to read
      }
    });
}

/** Backends notice their postmaster's death and exit on their own within moments; ones that do not are killed. */
const ORPHAN_GRACE_MS = 15_000;

/**
 * After a postmaster was killed: waits until its backends have exited (killing those that outlive the grace) and the
 * dead postmaster itself is reaped. A dead process not yet reaped still answers kill(pid, 0), so a new postmaster
 * would read the lock file's pid as a running server and refuse to start; once the grace is over, the lock file of a
 * postmaster that is dead (a zombie) is removed, as PostgreSQL's documentation allows when no server runs.
 */
async function clearAfterCrash(cluster: PostgresCluster): Promise<void> {
  const deadline = Date.now() + ORPHAN_GRACE_MS;
  const deadPostmaster = () => {
    const pid = lockFilePid(cluster);
    return pid !== null && existsSync(`/proc/${pid}`) ? pid : null;
  };
  while ((orphanedBackends(cluster).length > 0 || deadPostmaster() !== null) && Date.now() < deadline) await sleep(100);
  for (const pid of orphanedBackends(cluster)) process.kill(pid, 'SIGKILL');
  while (orphanedBackends(cluster).length > 0) await sleep(50);
  if (deadPostmaster() !== null) rmSync(join(cluster.dataDir, 'postmaster.pid'), { force: true });
}

export async function startPostgres(cluster: PostgresCluster): Promise<void> {
  if (postgresPid(cluster)) return;
  await clearAfterCrash(cluster);
  const options = `-p ${cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  try {
    await asOwner(cluster, join(cluster.bin, 'pg_ctl'), ['-D', cluster.dataDir, '-o', options, '-l', cluster.logFile, '-w', '-t', '60', 'start']);
  } catch (error) {
    // pg_ctl says only "examine the log output": the reason is in the log's last lines.
    const log = existsSync(cluster.logFile) ? readFileSync(cluster.logFile, 'utf8').trimEnd().split('\n').slice(-5).join('\n') : '(no log)';
    throw new Error(`PostgreSQL did not start (${cluster.logFile}):\n${log}`, { cause: error });
  }
}

export async function stopPostgres(cluster: Pick<PostgresCluster, 'owner' | 'dataDir' | 'bin'>): Promise<void> {
  const pid = postgresPid(cluster);
  if (!pid) return;
  await asOwner(cluster, join(cluster.bin, 'pg_ctl'), ['-D', cluster.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  // pg_ctl returns once the pid file is gone, a moment before the postmaster itself has exited.
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
}

/** pg_isready over TCP: whether the server accepts connections. */
export async function postgresReady(cluster: Pick<PostgresCluster, 'bin' | 'port'>): Promise<boolean> {
  try {
    await run(join(cluster.bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(cluster.port), '-t', '3']);
    return true;
  } catch {
    return false;
  }
}
