// When a long-running workflow should continue as new: the server suggests it, or its history passed our own limit.
import { workflowInfo } from '@temporalio/workflow';

export function historyIsLarge(maxHistoryEvents: number): boolean {
  const { continueAsNewSuggested, historyLength } = workflowInfo();
  return continueAsNewSuggested || historyLength > maxHistoryEvents;
}
