// Test-only transient faults (FAULT_INJECTION=name:count,…, e.g. `runMonthEtl:2,scoreMonth:1`): the first `count`
// attempts of those activities fail with a retryable error before doing anything, so tests can prove retries leave
// results unchanged. An unknown name (e.g. one of the per-step ETL activities runMonthEtl replaced) is refused when the worker starts.
import { Context } from '@temporalio/activity';

type ActivityMap = Record<string, (...args: never[]) => Promise<unknown>>;

export function parseFaultPlan(plan: string | undefined): Map<string, number> {
  const faults = new Map<string, number>();
  for (const entry of plan ? plan.split(',') : []) {
    const [name, count] = entry.split(':');
    faults.set(name, Number(count));
  }
  return faults;
}

export function withFaultInjection<T extends ActivityMap>(plan: string | undefined, activities: T): T {
  const faults = parseFaultPlan(plan);
  if (faults.size === 0) return activities;
  const wrapped: ActivityMap = { ...activities };
  for (const [name, failures] of faults) {
    const original = activities[name];
    if (!original) throw new Error(`FAULT_INJECTION names an unknown activity '${name}'`);
    wrapped[name] = async (...args: never[]) => {
      const attempt = Context.current().info.attempt;
      if (attempt <= failures) throw new Error(`injected transient fault in ${name}, attempt ${attempt} of ${failures} failing`);
      return original(...args);
    };
  }
  return wrapped as T;
}
