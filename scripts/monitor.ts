// `npm run monitor -- --as-of YYYY-MM [--model ID] [--from YYYY-MM] [--no-wait]`: run monitoring now, print the
// metrics table and where the dashboard is.
import { resolve } from 'node:path';
import { z } from 'zod';
import { monitoringWorkflow } from '../workflows/index.js';
import { readMonitoringTable } from '../core/monitoring/read-table.js';
import { monthOption, NO_WAIT, parseCommandLine } from './cli.js';
import { openClient, runCommand, waitWithProgress } from './client.js';
import { startMonitoring } from './lib/lifecycle-actions.js';
import { formatMonitoringTable } from './format.js';
import { backtestOf, describeBacktest } from '../core/monitoring/estimated-findings.js';

runCommand(async () => {
  const options = parseCommandLine('monitor', 'Monitoring now: performance, drift, dashboard and the governance decision.', {
    'as-of': { type: 'string', description: 'as-of month, YYYY-MM (default: this month)', schema: monthOption.optional() },
    model: { type: 'string', description: 'model id (default: the production model)', schema: z.string().min(1).optional() },
    from: { type: 'string', description: 'first application month to monitor (default: 24 months back)', schema: monthOption.optional() },
    'no-wait': NO_WAIT,
  });
  const { client, config, close } = await openClient();
  try {
    const asOf = options['as-of'] ?? new Date().toISOString().slice(0, 7);
    const handle = await startMonitoring(client, config, { asOf, modelId: options.model, from: options.from });
    console.log(`monitoring ${handle.workflowId}`);
    if (options['no-wait']) return;
    const result = await waitWithProgress<Awaited<ReturnType<typeof monitoringWorkflow>>>(handle, true, 'monitoring');
    if (!result.modelId) {
      console.log(result.reason);
      return;
    }
    const rows = await readMonitoringTable(config.DATAMART_DIR, result.modelId);
    console.log(formatMonitoringTable(rows));
    console.log(`\n${describeBacktest(backtestOf(rows))}`);
    console.log(`\ndecision: ${result.action} (${result.reason})${result.retrainRequested ? ' — retrain requested from model-lifecycle' : ''}`);
    if (result.dashboard) console.log(`dashboard: ${resolve(result.dashboard.png)}\n           ${resolve(result.dashboard.html)}`);
  } finally {
    await close();
  }
});
