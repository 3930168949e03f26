// Activities that talk to the model-lifecycle workflow through a Temporal client: a workflow cannot signal-with-start
// another workflow, and governance must reach model-lifecycle whether or not it is running yet.
import { monthSchema } from '../lib/months.js';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { LIFECYCLE_WORKFLOW_ID } from '../lib/temporal.js';
import { adaptActivity } from './failures.js';

const retrainInput = z.object({ reason: z.string().min(1), asOf: monthSchema.optional(), forced: z.boolean().optional() });

export function createLifecycleActivities(config: Config, client: Client) {
  return {
    /** Asks model-lifecycle to retrain, starting it first when it is not running. */
    requestRetrain: adaptActivity(async (input: z.input<typeof retrainInput>) => {
      const request = retrainInput.parse(input);
      const handle = await client.workflow.signalWithStart('modelLifecycleWorkflow', {
        workflowId: LIFECYCLE_WORKFLOW_ID,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{}],
        signal: 'forceRetrain',
        signalArgs: [request],
      });
      return { workflowId: handle.workflowId };
    }),
    /** Tells a running model-lifecycle that registry.json changed; nothing to do when it is not running. */
    notifyRegistryChanged: adaptActivity(async (): Promise<{ notified: boolean }> => {
      try {
        await client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).signal('registryChanged');
        return { notified: true };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { notified: false };
        throw error;
      }
    }),
  };
}
