// `npm run retrain -- --reason TEXT [--as-of YYYY-MM]`: signal model-lifecycle to retrain now (cooldown bypassed).
import { z } from 'zod';
import { statusQuery } from '../workflows/index.js';
import { monthOption, NO_WAIT, parseCommandLine } from './cli.js';
import { ensureLifecycle, openClient, printJson, runCommand } from './client.js';
import { forceRetrain } from './lib/lifecycle-actions.js';

runCommand(async () => {
  const options = parseCommandLine('retrain', 'Force a retraining through model-lifecycle (the cooldown does not apply).', {
    reason: { type: 'string', description: 'why (recorded with the training)', schema: z.string().min(1).default('forced by operator') },
    'as-of': { type: 'string', description: 'training month (default: the last month with mature labels)', schema: monthOption.optional() },
    'no-wait': NO_WAIT,
  });
  const { client, config, close } = await openClient();
  try {
    const handle = await ensureLifecycle(client, config);
    const before = (await handle.query(statusQuery)).trainings.length;
    await forceRetrain(client, config, { reason: options.reason, asOf: options['as-of'] });
    console.log(`signalled forceRetrain to ${handle.workflowId}`);
    if (options['no-wait']) return;
    // Wait until the lifecycle has recorded the outcome of this training.
    for (;;) {
      const status = await handle.query(statusQuery);
      if (status.trainings.length > before && !status.training && status.pendingRetrains.length === 0) {
        printJson(status.trainings[status.trainings.length - 1]);
        return;
      }
      await new Promise((wait) => setTimeout(wait, 1000));
    }
  } finally {
    await close();
  }
});
