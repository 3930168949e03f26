// The one lock between overlapping backfills of a datamart: a long-lived entity workflow (one per task queue) that
// admits backfills of one source folder at a time and hands out claims on months and trainings. Its state changes only
// through its own history (updates and signals, applied one at a time), never through the eventually-consistent
// visibility list, so two backfills started at the same moment see one and the same order.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { compareMonths, type Month } from '../lib/months.js';
import {
  JOIN_BACKFILLS_UPDATE,
  JOINED_BACKFILLS_QUERY,
  type HandedClaim,
  type JoinAnswer,
  type JoinedBackfill,
  type JoinRequest,
  type TrainingOutcome,
} from '../lib/temporal.js';
import { backfillsStillRunning } from './activity-proxies.js';

export const joinBackfillsUpdate = defineUpdate<JoinAnswer, [JoinRequest]>(JOIN_BACKFILLS_UPDATE);
export const joinedBackfillsQuery = defineQuery<JoinedBackfill[]>(JOINED_BACKFILLS_QUERY);
/** A backfill asks for one more claim (a training: its month is known only once the months before it are done). */
export const requestClaimSignal = defineSignal<[{ backfillId: string; claim: string }]>('requestClaim');
/** A backfill is done with a claim: the next backfill waiting for it gets it, with the outcome. */
export const settleClaimSignal = defineSignal<[{ backfillId: string; claim: string; failed?: string; training?: TrainingOutcome }]>('settleClaim');
/** A backfill ended (completed, failed or cancelled): its claims pass on unsettled. */
export const leaveSignal = defineSignal<[{ backfillId: string }]>('leave');
/** Sent to a backfill: a claim it waits for is its own now. */
export const claimHandedSignal = defineSignal<[HandedClaim]>('claimHanded');

/** One claim: who holds it and who waits for it, in the order they asked. */
interface Claim {
  holder: string | null;
  waiting: string[];
}

export interface CoordinatorState {
  backfills: JoinedBackfill[];
  claims: Array<{ claim: string } & Claim>;
}

export interface CoordinatorInput {
  carried?: CoordinatorState;
  /** How often, while a backfill waits, the coordinator checks that the backfills it waits for still run. */
  livenessCheck?: string;
  /** How long the coordinator, with no backfill joined, stays for the next one before it completes. */
  idleFor?: string;
}

/**
 * A claim on month M is handed to one backfill at a time: that backfill checks M's lineage and runs `month-<M>` if it
 * is stale; the next backfill waiting for M gets it once the first settles it (and checks M again, so each month's
 * pipeline runs once however many backfills want it). A claim on the training as of M is handed only when no other
 * joined backfill still owes a month up to M: the training reads every month up to M in the datamart, whoever computes
 * it; and while it trains, no other backfill gets a month up to M. This cannot deadlock: a backfill settles all its months up to its own training month before asking for the
 * training, so of two backfills waiting for each other's months each would owe a month after the other's training
 * month and before its own.
 *
 * A backfill that ends leaves (its claims pass on unsettled); one terminated, which cannot say so, is found by a
 * describe of the backfills that others wait for (strongly consistent, unlike the visibility list).
 */
export async function backfillCoordinatorWorkflow(input: CoordinatorInput = {}): Promise<void> {
  const { livenessCheck = '1 minute', idleFor = '2 seconds' } = input;
  const backfills = new Map<string, string>(input.carried?.backfills.map((b) => [b.backfillId, b.sourceDir]));
  const claims = new Map<string, Claim>(input.carried?.claims.map(({ claim, holder, waiting }) => [claim, { holder, waiting }]));

  const owesMonthUpTo = (backfillId: string, asOf: Month) =>
    [...claims].some(
      ([claim, { holder, waiting }]) =>
        claim.startsWith('month:') && compareMonths(claim.slice('month:'.length), asOf) <= 0 && (holder === backfillId || waiting.includes(backfillId)),
    );
  const mayTake = (claim: string, backfillId: string) => {
    if (claim.startsWith('month:')) {
      // No month changes under a training that reads it (the training of another backfill, running now).
      const month = claim.slice('month:'.length);
      return [...claims].every(
        ([other, { holder }]) => !other.startsWith('training:') || holder === null || holder === backfillId || compareMonths(month, other.slice('training:'.length)) > 0,
      );
    }
    const asOf = claim.slice('training:'.length);
    return [...backfills.keys()].every((other) => other === backfillId || !owesMonthUpTo(other, asOf));
  };

  /** Hands every free claim to the first backfill waiting for it that may take it; returns the hand-outs. */
  const handOut = (previous: Map<string, HandedClaim['previous']>) => {
    const handed: Array<{ backfillId: string; handed: HandedClaim }> = [];
    for (const [claim, entry] of claims) {
      if (entry.holder !== null) continue;
      const next = entry.waiting.find((backfillId) => mayTake(claim, backfillId));
      if (next === undefined) {
        if (entry.waiting.length === 0) claims.delete(claim);
        continue;
      }
      entry.holder = next;
      entry.waiting = entry.waiting.filter((backfillId) => backfillId !== next);
      const before = previous.get(claim);
      handed.push({ backfillId: next, handed: { claim, ...(before ? { previous: before } : {}) } });
    }
    return handed;
  };
  /** Hands out the free claims and tells each backfill what it got (a backfill gone meanwhile leaves). */
  const handOutAndSignal = (previous = new Map<string, HandedClaim['previous']>()) => {
    for (const { backfillId, handed } of handOut(previous)) {
      getExternalWorkflowHandle(backfillId)
        .signal(claimHandedSignal, handed)
        .catch(() => remove(backfillId, previous));
    }
  };
  const request = (backfillId: string, claim: string) => {
    const entry = claims.get(claim) ?? { holder: null, waiting: [] };
    claims.set(claim, entry);
    if (entry.holder !== backfillId && !entry.waiting.includes(backfillId)) entry.waiting.push(backfillId);
  };
  /** A backfill that ended: its held claims pass on unsettled, and it waits for nothing any more. */
  const remove = (backfillId: string, previous = new Map<string, HandedClaim['previous']>()) => {
    if (!backfills.delete(backfillId)) return;
    for (const [claim, entry] of claims) {
      if (entry.holder === backfillId) {
        entry.holder = null;
        previous.set(claim, { backfillId });
      }
      entry.waiting = entry.waiting.filter((waiting) => waiting !== backfillId);
    }
    handOutAndSignal(previous);
  };

  /** The joined backfills of another source folder than `sourceDir`. */
  const otherFolders = (sourceDir: string) => [...backfills].filter(([, joined]) => joined !== sourceDir).map(([backfillId]) => backfillId);
  setHandler(joinBackfillsUpdate, async (join): Promise<JoinAnswer> => {
    if (!backfills.has(join.backfillId) && otherFolders(join.sourceDir).length > 0) {
      // Refusing for a backfill that ended without leaving (terminated) would refuse forever: asked of the server first.
      const others = otherFolders(join.sourceDir);
      const running = new Set(await backfillsStillRunning({ backfillIds: others }));
      for (const backfillId of others) if (!running.has(backfillId)) remove(backfillId);
    }
    if (!backfills.has(join.backfillId)) {
      const other = [...backfills].find(([, sourceDir]) => sourceDir !== join.sourceDir);
      if (other) return { admitted: false, holder: { backfillId: other[0], sourceDir: other[1] } };
      backfills.set(join.backfillId, join.sourceDir);
      for (const month of join.months) request(join.backfillId, `month:${month}`);
    }
    // A continued run joins again: it gets what its earlier run held, and waits where that run waited.
    const handed = handOut(new Map());
    for (const { backfillId, handed: claim } of handed.filter((h) => h.backfillId !== join.backfillId)) {
      getExternalWorkflowHandle(backfillId).signal(claimHandedSignal, claim).catch(() => remove(backfillId));
    }
    const held = [...claims].filter(([, entry]) => entry.holder === join.backfillId).map(([claim]) => ({ claim }));
    return { admitted: true, handed: held };
  });
  setHandler(requestClaimSignal, ({ backfillId, claim }) => {
    if (!backfills.has(backfillId)) return;
    request(backfillId, claim);
    handOutAndSignal();
  });
  setHandler(settleClaimSignal, ({ backfillId, claim, failed, training }) => {
    const entry = claims.get(claim);
    if (entry?.holder !== backfillId) return;
    entry.holder = null;
    handOutAndSignal(new Map([[claim, { backfillId, ...(failed ? { failed } : {}), ...(training ? { training } : {}) }]]));
  });
  setHandler(leaveSignal, ({ backfillId }) => remove(backfillId));
  setHandler(joinedBackfillsQuery, () => [...backfills].map(([backfillId, sourceDir]) => ({ backfillId, sourceDir })));

  const someoneWaits = () => [...claims.values()].some((entry) => entry.waiting.length > 0);
  for (;;) {
    if (backfills.size === 0) {
      // Stay a moment for the next backfill, then complete: nothing is left running once the backfills are done (a
      // join arriving as it completes fails, and its retry starts a new coordinator).
      if (!(await condition(() => backfills.size > 0, idleFor))) break;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      const carried: CoordinatorState = {
        backfills: [...backfills].map(([backfillId, sourceDir]) => ({ backfillId, sourceDir })),
        claims: [...claims].map(([claim, entry]) => ({ claim, ...entry })),
      };
      await continueAsNew<typeof backfillCoordinatorWorkflow>({ ...input, carried });
    }
    const waiting = someoneWaits();
    const changed = await condition(
      () => backfills.size === 0 || workflowInfo().continueAsNewSuggested || someoneWaits() !== waiting,
      waiting ? livenessCheck : '1 day',
    );
    if (!changed && waiting) {
      // A backfill terminated (or timed out) never leaves: those still running are asked of the server by id.
      const joined = [...backfills.keys()];
      const running = new Set(await backfillsStillRunning({ backfillIds: joined }));
      for (const backfillId of joined) if (!running.has(backfillId)) remove(backfillId);
    }
  }
  await condition(allHandlersFinished);
}
