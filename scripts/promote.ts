// `npm run promote -- --model ID`: the promoteModel update on model-lifecycle (an unknown id is rejected).
import { z } from 'zod';
import { promoteModelUpdate } from '../workflows/index.js';
import { parseCommandLine } from './cli.js';
import { ensureLifecycle, openClient, printJson, runCommand } from './client.js';

runCommand(async () => {
  const options = parseCommandLine('promote', 'Make a registered model the production model.', {
    model: { type: 'string', description: 'model id', schema: z.string().min(1) },
  });
  const { client, config, close } = await openClient();
  try {
    const handle = await ensureLifecycle(client, config);
    const status = await handle.executeUpdate(promoteModelUpdate, { args: [{ modelId: options.model }] });
    console.log(`production model: ${status.production}`);
    printJson(status.history.slice(-5));
  } finally {
    await close();
  }
});
