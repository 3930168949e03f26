// `npm run docs:console [-- --private-temporal]`: screenshots of every console page into docs/console/*.png, taken in
// Debian's Chromium from the console over DATAMART_DIR and MODEL_BANK_DIR. With --private-temporal it starts a
// headless Temporal dev server of its own (in memory, a free port) and a worker, so that the actions page shows
// model-lifecycle's status without touching any other server; otherwise it uses TEMPORAL_ADDRESS if one answers.
// The README's pictures come from the real sample: `npx tsx test/console/sample-bank.ts .console-sample`, then
// `DATAMART_DIR=.console-sample/datamart MODEL_BANK_DIR=.console-sample/model_bank npm run docs:console -- --private-temporal`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import puppeteer from 'puppeteer-core';
import { startConsole } from '../../core/console/app.js';
import { readModels, readMonthPredictions, partitionMonths } from '../../core/console/data.js';
import { loadConfig } from '../../lib/config.js';
import { datamart } from '../../lib/layout.js';
import { temporalConnectConfig } from '../../workers/connection.js';
import { createWorker } from '../../workers/worker.js';
import { consoleTemporal } from '../lib/console-temporal.js';
import { freePort, startDevServer, type DevServer } from '../../workers/dev-server.js';
import { ensureLifecycle } from '../client.js';

const CHROMIUM = '/usr/bin/chromium';
const WIDTH = 1400;
const MAX_HEIGHT = 1500;

// The worker's state changes are noise here; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });
const config = loadConfig();
const privateTemporal = process.argv.includes('--private-temporal');
const outDir = resolve('docs/console');
mkdirSync(outDir, { recursive: true });

let devServer: DevServer | null = null;
let worker: Worker | null = null;
let workerRun: Promise<void> | null = null;
let nativeConnection: NativeConnection | null = null;
let connection: Connection;
let uiUrl = config.TEMPORAL_UI_URL;
if (privateTemporal) {
  devServer = await startDevServer({ port: await freePort(), headless: true, logFile: join(tmpdir(), 'docs-console-temporal.log') });
  connection = await Connection.connect({ address: devServer.address });
  nativeConnection = await NativeConnection.connect({ address: devServer.address });
  const client = new Client({ connection, namespace: 'default' });
  worker = await createWorker({ config, connection: nativeConnection, namespace: 'default', client });
  workerRun = worker.run();
  await ensureLifecycle(client, config);
  uiUrl = 'http://127.0.0.1:8233';
} else {
  connection = Connection.lazy(temporalConnectConfig().connectionOptions);
}
const client = new Client({ connection, namespace: privateTemporal ? 'default' : temporalConnectConfig().namespace });
const server = await startConsole({ config: { ...config, TEMPORAL_UI_URL: uiUrl }, temporal: consoleTemporal(client, config), host: '127.0.0.1', port: 0 });
const profile = mkdtempSync(join(tmpdir(), 'docs-console-chromium-'));
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
});
try {
  const { models, registry } = await readModels(config.MODEL_BANK_DIR);
  const production = registry.production ?? models[0]?.metadata.model_id;
  if (!production) throw new Error(`${config.MODEL_BANK_DIR} has no model: build a datamart and model bank first (see the header of this script)`);
  const other = models.find((m) => m.metadata.model_id !== production)?.metadata.model_id;
  const months = await partitionMonths(datamart.featureStore(config.DATAMART_DIR));
  const month = months[Math.floor(months.length / 2)] ?? months.at(-1)!;
  const loan = (await readMonthPredictions(config.DATAMART_DIR, production, month, 1))?.rows[0]?.loan_id;
  const pages: Array<[string, string]> = [
    ['models', '/models'],
    ...(other ? [['compare', `/compare?a=${production}&b=${other}`] as [string, string]] : []),
    ['monitoring', `/monitoring?model=${production}&month=${month}`],
    // A month the production model was trained on: its lineage reaches the model too.
    ['lineage', `/lineage?month=${models.find((m) => m.metadata.model_id === production)!.metadata.windows.train.to}`],
    ['application', `/application?loan_id=${encodeURIComponent(String(loan ?? ''))}`],
    ['actions', '/actions'],
  ];
  for (const [name, path] of pages) {
    const page = await browser.newPage();
    await page.setViewport({ width: WIDTH, height: 900 });
    await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
    await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((chart) => chart.querySelector('svg') || chart.textContent), { timeout: 30_000 });
    const height = Math.min(MAX_HEIGHT, await page.evaluate(() => document.documentElement.scrollHeight));
    const file = join(outDir, `${name}.png`);
    await page.screenshot({ path: file as `${string}.png`, clip: { x: 0, y: 0, width: WIDTH, height }, captureBeyondViewport: true });
    console.log(`${file} ← ${path}`);
    await page.close();
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  await server.close();
  worker?.shutdown();
  await workerRun;
  await nativeConnection?.close();
  await connection.close();
  await devServer?.stop();
}
