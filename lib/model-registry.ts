// Rules read off registry.json's history, shared by the model bank (core/), model-lifecycle's status (workflows/) and
// the client commands: which model a rollback returns to, which candidates are challengers, which were turned down.
import type { Registry, RegistryEvent } from './contracts.js';

type History = Pick<Registry, 'production'> & { history: readonly RegistryEvent[] };

/**
 * The model a rollback returns to: the most recent earlier production model other than the current one that was not
 * itself rolled back (rejected) afterwards. Status and rollback use this one rule, so status never names a model the
 * rollback would refuse.
 */
export function previousProduction(registry: History): string | null {
  const rejected = new Set<string>();
  for (let i = registry.history.length - 1; i >= 0; i--) {
    const { model_id, stage } = registry.history[i];
    if (stage === 'rejected') rejected.add(model_id);
    if (stage === 'production' && model_id !== registry.production && !rejected.has(model_id)) return model_id;
  }
  return null;
}

/** Each model's latest event, in the order of those events (oldest first). */
function latestEvents(registry: History): RegistryEvent[] {
  const latest = new Map<string, RegistryEvent>();
  for (const event of registry.history) {
    latest.delete(event.model_id);
    latest.set(event.model_id, event);
  }
  return [...latest.values()];
}

/**
 * Challengers: registered candidates not yet promoted nor retired (their latest event is `candidate`), the newest
 * first, at most `max`. They are scored in shadow beside production each month.
 */
export function challengersOf(registry: History, max: number): string[] {
  return latestEvents(registry)
    .filter((event) => event.stage === 'candidate' && event.model_id !== registry.production)
    .map((event) => event.model_id)
    .reverse()
    .slice(0, max);
}

/** Whether a model was ever rolled back (`rejected` in the registry): promoting it again goes through the gate. */
export function wasRolledBack(registry: History, modelId: string): boolean {
  return registry.history.some((event) => event.model_id === modelId && event.stage === 'rejected');
}
