// `npm run infer-history -- --from YYYY-MM --to YYYY-MM [--model ID] [--parallelism N] [--no-wait]`
import { z } from 'zod';
import { workflowIds } from '../lib/temporal.js';
import { historicalInferenceWorkflow } from '../workflows/index.js';
import { DEFAULT_MONTHS_IN_FLIGHT, monthsInFlightSchema } from '../lib/workflow-inputs.js';
import { compareMonths } from '../lib/months.js';
import { monthOption, NO_WAIT, parseCommandLine, usageError } from './cli.js';
import { openClient, printJson, runCommand, waitWithProgress } from './client.js';

runCommand(async () => {
  const options = parseCommandLine('infer-history', 'Phase 2: score every month of a range with the production model (or --model).', {
    from: { type: 'string', description: 'first month, YYYY-MM', schema: monthOption },
    to: { type: 'string', description: 'last month, YYYY-MM', schema: monthOption },
    model: { type: 'string', description: 'model id (default: the production model)', schema: z.string().min(1).optional() },
    parallelism: { type: 'string', description: `months in flight at once (default ${DEFAULT_MONTHS_IN_FLIGHT})`, schema: z.coerce.number().pipe(monthsInFlightSchema).default(DEFAULT_MONTHS_IN_FLIGHT) },
    'no-wait': NO_WAIT,
  });
  if (compareMonths(options.from, options.to) > 0) usageError('infer-history', `--from ${options.from} is after --to ${options.to}`);
  const { client, config, close } = await openClient();
  try {
    const workflowId = workflowIds.history(options.from, options.to);
    const handle = await client.workflow.start(historicalInferenceWorkflow, {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: options.from, to: options.to, modelId: options.model, parallelism: options.parallelism }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `phase 2 scoring ${options.from}..${options.to}`,
    });
    console.log(`historical inference ${workflowId}`);
    if (options['no-wait']) return;
    printJson(await waitWithProgress(handle, true));
  } finally {
    await close();
  }
});
