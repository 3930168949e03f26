// Promise.all for workflows that must not close with work still running: it waits for every activity or child to
// settle before it rethrows the first failure. With Promise.all a cancelled workflow closed at the first activity that
// reported its cancellation, while the others were still stopping on the workers (their cancel requests never closed
// in the history, their results found no workflow); a failure likewise left the siblings running unobserved.
export async function settleAll<T extends readonly unknown[] | []>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = (await Promise.allSettled(promises)) as Array<PromiseSettledResult<unknown>>;
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
