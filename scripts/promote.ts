// `npm run promote -- --model ID --reason TEXT [--by NAME] [--force]`: the promoteModel update on model-lifecycle. The
// reason is required (exit 2 without); the name defaults to the OS user. A model once rolled back or rejected passes
// the gate again unless --force. The decision and its evidence go to gold/governance/promotions.parquet.
import { z } from 'zod';
import { parseCommandLine } from './cli.js';
import { openClient, printJson, runCommand } from './client.js';
import { promoteModel } from './lib/lifecycle-actions.js';
import { operatorName } from './lib/operator.js';

runCommand(async () => {
  const options = parseCommandLine('promote', 'Make a registered model the production model (the decision is logged with who and why).', {
    model: { type: 'string', description: 'model id', schema: z.string().min(1) },
    reason: { type: 'string', description: 'why (required; recorded in the registry and promotions.parquet)', schema: z.string().trim().min(1, 'a reason is required') },
    by: { type: 'string', description: 'who decides (default: the OS user)', schema: z.string().trim().min(1).optional() },
    force: { type: 'boolean', description: 'promote a model once rolled back or rejected even if the gate refuses it (logged as forced)' },
  });
  const { client, config, close } = await openClient();
  try {
    const status = await promoteModel(client, config, { modelId: options.model, reason: options.reason, by: options.by ?? operatorName(), force: options.force });
    console.log(`production model: ${status.production}`);
    printJson(status.history.slice(-5));
  } finally {
    await close();
  }
});
