// registry.json: which model is in production and every stage change with its reason. Writes are atomic (temp
// file + rename) and serialized twice over: a promise chain per registry file inside this process (two activities of
// one worker may write at once) and a lock file across processes.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { modelBank } from '../../lib/layout.js';
import { registrySchema, type Registry, type RegistryEvent } from '../../lib/contracts.js';
import { NoPreviousModel } from '../../lib/errors.js';
import { previousProduction } from '../../lib/model-registry.js';

export { previousProduction };
import { writeFileAtomic } from '../fs-atomic.js';

const LOCK_WAIT_MS = 30_000;
const STALE_LOCK_MS = 60_000;
const chains = new Map<string, Promise<unknown>>();
/** Written into the lock file: who holds it. */
const LOCK_OWNER = `${hostname()} ${process.pid}`;

/**
 * Whether the lock was taken by a process of this host that no longer runs (a worker killed while it held the lock):
 * then it is stale at once, instead of holding every registry write of the bank until STALE_LOCK_MS. A holder on
 * another host (or an unreadable lock) is left to the age test.
 */
async function holderIsGone(lockPath: string): Promise<boolean> {
  const owner = await readFile(lockPath, 'utf8').then((text) => text.trim().split(' '), () => []);
  if (owner.length !== 2 || owner[0] !== hostname() || !/^\d+$/.test(owner[1])) return false;
  try {
    process.kill(Number(owner[1]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function emptyRegistry(): Registry {
  return { production: null, history: [] };
}

export async function readRegistry(modelBankDir: string): Promise<Registry> {
  const path = modelBank.registry(modelBankDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
    throw error;
  }
  const parsed = registrySchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${path} is not a valid registry: ${parsed.error.message}`);
  return parsed.data;
}

async function withLockFile<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${LOCK_OWNER}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS || (await holderIsGone(lockPath))) {
        await rm(lockPath, { force: true }); // its writer died holding it
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`registry lock ${lockPath} held for more than ${LOCK_WAIT_MS / 1000}s`, { cause: error });
      }
      await sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 5)));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/**
 * Reads, changes and writes the registry under both locks. `change` returns the new registry, or null to leave the
 * file untouched (an idempotent repeat).
 */
export function updateRegistry(modelBankDir: string, change: (current: Registry) => Registry | null | Promise<Registry | null>): Promise<Registry> {
  const path = modelBank.registry(modelBankDir);
  const previous = chains.get(path) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() =>
    withLockFile(`${path}.lock`, async () => {
      const current = await readRegistry(modelBankDir);
      const changed = await change(current);
      if (changed === null) return current;
      const valid = registrySchema.parse(changed);
      await writeFileAtomic(path, JSON.stringify(valid, null, 2) + '\n');
      return valid;
    }),
  );
  chains.set(path, next);
  void next.finally(() => {
    if (chains.get(path) === next) chains.delete(path);
  }).catch(() => undefined);
  return next;
}

export function event(modelId: string, stage: RegistryEvent['stage'], reason: string, at = new Date()): RegistryEvent {
  return { model_id: modelId, stage, at: at.toISOString(), reason };
}

/** The last event recorded for a model, if any. */
export function lastEventOf(registry: Registry, modelId: string): RegistryEvent | undefined {
  for (let i = registry.history.length - 1; i >= 0; i--) if (registry.history[i].model_id === modelId) return registry.history[i];
  return undefined;
}

/** Records `stage` for a model unless its last event already says the same with the same reason. */
export function recordEvent(modelBankDir: string, modelId: string, stage: RegistryEvent['stage'], reason: string): Promise<Registry> {
  return updateRegistry(modelBankDir, (registry) => withEvent(registry, modelId, stage, reason));
}

/** The registry with one more event, or null when the model's last event already says the same. */
function withEvent(registry: Registry, modelId: string, stage: RegistryEvent['stage'], reason: string): Registry | null {
  const last = lastEventOf(registry, modelId);
  if (last && last.stage === stage && last.reason === reason) return null;
  return { ...registry, history: [...registry.history, event(modelId, stage, reason)] };
}

/**
 * Records a trained model that was not promoted as a candidate. A retrain can yield the production model's own id
 * (same data, same code, same parameters): that model is not a candidate, so nothing is recorded.
 */
export function recordCandidate(modelBankDir: string, modelId: string, reason: string): Promise<Registry> {
  return updateRegistry(modelBankDir, (registry) => (registry.production === modelId ? null : withEvent(registry, modelId, 'candidate', reason)));
}

/** Makes `modelId` the production model; the one it replaces is archived. Promoting the production model is a no-op. */
export function promote(modelBankDir: string, modelId: string, reason: string): Promise<Registry> {
  return updateRegistry(modelBankDir, (registry) => {
    if (registry.production === modelId) return null;
    const history = [...registry.history];
    if (registry.production) history.push(event(registry.production, 'archived', `replaced by ${modelId}`));
    history.push(event(modelId, 'production', reason));
    return { production: modelId, history };
  });
}

/** Back to the previous production model; the current one is marked rejected with the reason. */
export function rollback(modelBankDir: string, reason: string): Promise<Registry> {
  return updateRegistry(modelBankDir, (registry) => {
    if (!registry.production) throw new NoPreviousModel('no production model to roll back');
    const target = previousProduction(registry);
    if (!target) throw new NoPreviousModel(`production model ${registry.production} has no earlier production model to roll back to`);
    return {
      production: target,
      history: [
        ...registry.history,
        event(registry.production, 'rejected', `rolled back: ${reason}`),
        event(target, 'production', `rollback from ${registry.production}: ${reason}`),
      ],
    };
  });
}
