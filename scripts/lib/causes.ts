// Temporal wraps the reason of a failure in causes (a workflow's failure, a child's, an activity's, an update
// validator's rejection): client commands and tests read the chain, outermost first.

/** `error` and each of its causes that is an Error, outermost first (empty when `error` is not an Error). */
export function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current: unknown = error; current instanceof Error; current = current.cause) chain.push(current);
  return chain;
}
