// `npm run backfill -- --from YYYY-MM --to YYYY-MM [--train-at YYYY-MM] [--parallelism N] [--source DIR] [--no-wait]`
import { resolve } from 'node:path';
import { z } from 'zod';
import { workflowIds } from '../lib/temporal.js';
import { backfillWorkflow } from '../workflows/index.js';
import { compareMonths } from '../lib/months.js';
import { monthOption, NO_WAIT, parseCommandLine, usageError as fail } from './cli.js';
import { ensureLifecycle, openClient, printJson, runCommand, waitWithProgress } from './client.js';

runCommand(async () => {
  const options = parseCommandLine('backfill', 'Phase 1: ETL every month of a range, training at --train-at (default: the last month with mature labels).', {
    from: { type: 'string', description: 'first month, YYYY-MM', schema: monthOption },
    to: { type: 'string', description: 'last month, YYYY-MM', schema: monthOption },
    'train-at': { type: 'string', description: 'training month (default: last month with mature labels)', schema: monthOption.optional() },
    parallelism: { type: 'string', description: 'months at once (default 4)', schema: z.coerce.number().int().min(1).max(64).default(4) },
    source: { type: 'string', description: 'folder of the four source CSVs (default data/raw)', schema: z.string().default('data/raw') },
    'no-wait': NO_WAIT,
  });
  // Refused here rather than by the workflow: a bad range never reaches the worker.
  if (compareMonths(options.from, options.to) > 0) fail('backfill', `--from ${options.from} is after --to ${options.to}`);
  if (options['train-at'] && (compareMonths(options['train-at'], options.from) < 0 || compareMonths(options['train-at'], options.to) > 0)) {
    fail('backfill', `--train-at ${options['train-at']} lies outside ${options.from}..${options.to}`);
  }
  const { client, config, close } = await openClient();
  try {
    await ensureLifecycle(client, config);
    const workflowId = workflowIds.backfill(options.from, options.to);
    const handle = await client.workflow.start(backfillWorkflow, {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ from: options.from, to: options.to, trainAt: options['train-at'], parallelism: options.parallelism, sourceDir: resolve(options.source) }],
      // A second caller while it runs attaches to the same execution instead of starting another.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `phase 1 backfill ${options.from}..${options.to}`,
    });
    console.log(`backfill ${workflowId} (run ${handle.firstExecutionRunId})`);
    if (options['no-wait']) return;
    printJson(await waitWithProgress(handle, true));
  } finally {
    await close();
  }
});
