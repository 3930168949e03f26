// Every activity of the credit-pipeline worker, built from the validated configuration and a Temporal client.
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { createCoordinationActivities } from './coordination.js';
import { createDatamartActivities } from './datamart.js';
import { createEtlActivities } from './etl.js';
import { withFaultInjection } from './fault-injection.js';
import { createLifecycleActivities } from './lifecycle.js';
import { createModelBankActivities } from './model-bank.js';
import { createMonitoringActivities } from './monitoring.js';
import { createScoringActivities } from './scoring.js';
import { createTrainingActivities } from './training.js';

export function createActivities(config: Config, client: Client) {
  return withFaultInjection(config.FAULT_INJECTION, {
    ...createDatamartActivities(config),
    ...createEtlActivities(config),
    ...createTrainingActivities(config),
    ...createModelBankActivities(config),
    ...createScoringActivities(config),
    ...createMonitoringActivities(config),
    ...createLifecycleActivities(config, client),
    ...createCoordinationActivities(config, client),
  });
}
export type Activities = ReturnType<typeof createActivities>;
