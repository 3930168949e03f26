// `npm run status`: the model-lifecycle state from its `status` query, told coherently: the production model, the one a
// rollback would return to, the challengers scored in shadow, and the last five promotion decisions with who and why
// (gold/governance/promotions.parquet), and `production_stale`: whether production was trained on the data the datamart
// holds now (core/models/staleness.ts, which the console can read the same way); then the full state as JSON.
import { describeModel } from '../lib/model-id.js';
import { challengersOf } from '../lib/model-registry.js';
import { readMetadata } from '../core/models/metadata.js';
import { readPromotionLog } from '../core/models/promotion-log.js';
import { statusQuery } from '../workflows/index.js';
import { productionStaleness } from '../core/models/staleness.js';
import { parseCommandLine } from './cli.js';
import { ensureLifecycle, openClient, printJson, runCommand } from './client.js';
import { formatTable, truncate } from './format.js';

runCommand(async () => {
  const options = parseCommandLine('status', 'Show the production model, the rollback target, the challengers and the latest promotion decisions.', {
    json: { type: 'boolean', description: 'print only the full state as JSON' },
  });
  const { client, config, close } = await openClient();
  try {
    const handle = await ensureLifecycle(client, config);
    const status = await handle.query(statusQuery);
    const staleness = await productionStaleness(config.DATAMART_DIR, config.MODEL_BANK_DIR);
    const productionStale = { stale: staleness.stale, reason: staleness.reason, changed: staleness.changed };
    if (options.json) {
      printJson({ ...status, production_stale: productionStale });
      return;
    }
    const named = async (modelId: string | null) => {
      if (!modelId) return 'none';
      return readMetadata(config.MODEL_BANK_DIR, modelId).then(describeModel, () => modelId);
    };
    const challengers = challengersOf(status, config.MAX_CHALLENGERS);
    console.log(`production:           ${await named(status.production)}`);
    if (staleness.stale) console.log(`production_stale:     ${staleness.reason}`);
    console.log(`rollback would go to: ${await named(status.previousProduction)}`);
    console.log(`challengers (shadow): ${challengers.length === 0 ? 'none' : ''}`);
    for (const challenger of challengers) console.log(`  ${await named(challenger)}`);
    if (status.training) console.log(`training now:         ${status.currentTraining ?? 'yes'}`);
    const decisions = (await readPromotionLog(config.DATAMART_DIR)).slice(-5).reverse();
    console.log('\nlast promotion decisions (gold/governance/promotions.parquet):');
    console.log(
      decisions.length === 0
        ? '  none yet'
        : formatTable(
            ['decided_at', 'by', 'action', 'candidate', 'production', 'evidence', 'reason'],
            decisions.map((row) => [
              row.decided_at.slice(0, 19),
              row.decided_by,
              row.action,
              row.candidate_model_id ?? '',
              row.production_model_id ?? '',
              row.auc_diff === null ? 'no paired comparison' : `diff ${row.auc_diff.toFixed(4)} [${row.auc_diff_low!.toFixed(4)}, ${row.auc_diff_high!.toFixed(4)}] p ${row.p_value!.toFixed(3)} on ${row.months_compared}`,
              truncate(row.reason, 90),
            ]),
          ),
    );
    console.log('\n(npm run status -- --json: the full state)');
  } finally {
    await close();
  }
});
