// `npm run rollback -- --reason TEXT [--by NAME]`: the rollbackModel update on model-lifecycle: back to the previous
// production model. The reason is required (exit 2 without); the name defaults to the OS user.
import { z } from 'zod';
import { parseCommandLine } from './cli.js';
import { openClient, printJson, runCommand } from './client.js';
import { rollbackModel } from './lib/lifecycle-actions.js';
import { operatorName } from './lib/operator.js';

runCommand(async () => {
  const options = parseCommandLine('rollback', 'Return to the previous production model (the decision is logged with who and why).', {
    reason: { type: 'string', description: 'why (required; recorded in the registry and promotions.parquet)', schema: z.string().trim().min(1, 'a reason is required') },
    by: { type: 'string', description: 'who decides (default: the OS user)', schema: z.string().trim().min(1).optional() },
  });
  const { client, config, close } = await openClient();
  try {
    const status = await rollbackModel(client, config, { reason: options.reason, by: options.by ?? operatorName() });
    console.log(`production model: ${status.production}`);
    printJson(status.history.slice(-5));
  } finally {
    await close();
  }
});
