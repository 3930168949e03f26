// `npm run status`: the model-lifecycle state (production model, history, trainings) from its `status` query.
import { statusQuery } from '../workflows/index.js';
import { parseCommandLine } from './cli.js';
import { ensureLifecycle, openClient, printJson, runCommand } from './client.js';

runCommand(async () => {
  parseCommandLine('status', 'Show the production model and its history (query `status` on model-lifecycle).', {});
  const { client, config, close } = await openClient();
  try {
    const handle = await ensureLifecycle(client, config);
    printJson(await handle.query(statusQuery));
  } finally {
    await close();
  }
});
