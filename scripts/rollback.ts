// `npm run rollback`: the rollbackModel update on model-lifecycle: back to the previous production model.
import { z } from 'zod';
import { rollbackModelUpdate } from '../workflows/index.js';
import { parseCommandLine } from './cli.js';
import { ensureLifecycle, openClient, printJson, runCommand } from './client.js';

runCommand(async () => {
  const options = parseCommandLine('rollback', 'Return to the previous production model.', {
    reason: { type: 'string', description: 'why (recorded in the registry)', schema: z.string().min(1).optional() },
  });
  const { client, config, close } = await openClient();
  try {
    const handle = await ensureLifecycle(client, config);
    const status = await handle.executeUpdate(rollbackModelUpdate, { args: [{ reason: options.reason }] });
    console.log(`production model: ${status.production}`);
    printJson(status.history.slice(-5));
  } finally {
    await close();
  }
});
