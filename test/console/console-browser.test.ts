// The operator's console in a real browser (Debian's Chromium driven by puppeteer-core) over a datamart and model bank
// built from the real sample (two models, both monitored), with a real Temporal dev server and worker behind the
// actions: every page loads without a console error and passes the HTML sanity check (labelled controls, a table
// behind every chart), the production model and a comparison of two models show the model bank's own numbers, the
// lineage page of a month shows the source hashes its bronze partitions recorded, and a promote through the page
// changes model-lifecycle's `status`, while one without a reason is refused and changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startConsole, type ConsoleServer } from '../../core/console/app.js';
import { readMetadata } from '../../core/models/bank.js';
import { queryRows, withDuckDB } from '../../core/duckdb.js';
import { readRegistry } from '../../core/models/registry.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { datamart, partitionFile, SOURCES } from '../../lib/layout.js';
import { consoleTemporal } from '../../scripts/lib/console-temporal.js';
import { ensureLifecycle } from '../../scripts/client.js';
import { scoreMonthWorkflow, statusQuery } from '../../workflows/index.js';
import { workflowIds } from '../../lib/temporal.js';
import { readDecisions, readPromotions } from '../../core/console/data.js';
import { scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { waitUntil } from '../helpers/wait.js';
import { buildSampleBank, type SampleBank } from './sample-bank.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

const scratch = scratchConfig('console');
const { config } = scratch;
const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
let env: TestWorkflowEnvironment;
let bank: SampleBank;
let server: ConsoleServer;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup --tests (it installs Debian's chromium)`);
  bank = await buildSampleBank(config);
  env = await startTemporal();
  server = await startConsole({ config, temporal: consoleTemporal(env.client, config), host: '127.0.0.1', port: 0 });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`] });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await env?.teardown();
  await releaseScoringSessions();
  rmSync(profile, { recursive: true, force: true });
  scratch.cleanup();
});

interface Visit {
  page: Page;
  status: number;
  errors: string[];
  text: string;
}

/** Opens a path, waits for its charts to be drawn, and collects console errors and uncaught exceptions. */
async function visit(path: string): Promise<Visit> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  const response = await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
  await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((chart) => chart.querySelector('svg') || chart.textContent), { timeout: 30_000 });
  const text = await page.evaluate(() => document.body.innerText);
  return { page, status: response?.status() ?? 0, errors, text };
}

/** Every form control has a label (label[for] or aria-label); every chart has a table in its figure. */
async function htmlProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const control of document.querySelectorAll('input, select, textarea')) {
      if (control instanceof HTMLInputElement && ['hidden', 'submit', 'button'].includes(control.type)) continue;
      const labelled = (control.id && document.querySelector(`label[for="${CSS.escape(control.id)}"]`)) || control.getAttribute('aria-label');
      if (!labelled) problems.push(`unlabelled ${control.tagName.toLowerCase()} name=${control.getAttribute('name')}`);
    }
    for (const chart of document.querySelectorAll('.chart')) {
      if (!chart.closest('figure')?.querySelector('table')) problems.push(`chart ${chart.getAttribute('data-chart')} without a table`);
    }
    if (!document.documentElement.lang) problems.push('no lang on <html>');
    if (!document.title) problems.push('no <title>');
    return problems;
  });
}

const lifecycleStatus = async () => (await ensureLifecycle(env.client, config)).query(statusQuery);

test('the console in Chromium', { timeout: 600_000 }, async (t) => {
  await withWorker(env, config, async () => {
    // The lifecycle reads the registry when it starts: both models known before any action.
    await ensureLifecycle(env.client, config);
    await waitUntil('model-lifecycle to know both models', async () => (await lifecycleStatus()).knownModels.length >= 2, { timeoutMs: 30_000 });

    await t.test('every page loads without console errors and passes the HTML sanity check', async () => {
      const month = '2024-03';
      const loan = (await server.app.inject(`/monitoring?month=${month}`)).body.match(/application\?loan_id=([^"&]+)/)?.[1];
      assert.ok(loan, 'a month’s rows link to its applications');
      const paths = [
        '/models',
        `/models/${bank.production}`,
        `/compare?a=${bank.production}&b=${bank.challenger}`,
        '/monitoring',
        `/monitoring?model=${bank.challenger}&month=${month}`,
        `/lineage?month=${month}`,
        `/application?loan_id=${loan}`,
        '/actions',
      ];
      for (const path of paths) {
        const { page, status, errors } = await visit(path);
        assert.equal(status, 200, path);
        assert.deepEqual(errors, [], `${path}: console errors`);
        assert.deepEqual(await htmlProblems(page), [], `${path}: HTML problems`);
        const charts = await page.$$eval('.chart', (elements) => elements.map((element) => Boolean(element.querySelector('svg'))));
        assert.ok(charts.every(Boolean), `${path}: every chart drawn (${charts})`);
        await page.close();
      }
    });

    await t.test('the models page shows the production model id, the registry’s', async () => {
      const registry = await readRegistry(config.MODEL_BANK_DIR);
      assert.equal(registry.production, bank.production);
      const { page, text } = await visit('/models');
      assert.equal(await page.$eval('#production-model', (element) => element.textContent), bank.production);
      const productionRow = await page.$eval('#models tr.production', (row) => (row as HTMLElement).innerText);
      assert.match(productionRow, new RegExp(bank.production));
      assert.match(text, new RegExp(`${bank.challenger}\\s+challenger`));
      await page.close();
    });

    await t.test('a comparison of two models shows each one’s metrics from its metadata and their monitoring per month', async () => {
      const { page } = await visit('/models');
      await page.select('#compare-a', bank.production);
      await page.select('#compare-b', bank.challenger);
      await Promise.all([page.waitForNavigation(), page.click('form[action="/compare"] button')]);
      const table = await page.$$eval('#metrics tr', (rows) => rows.map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent ?? '')));
      assert.deepEqual(table[0], ['Metric', bank.production, bank.challenger, 'second − first']);
      const [production, challenger] = await Promise.all([readMetadata(config.MODEL_BANK_DIR, bank.production), readMetadata(config.MODEL_BANK_DIR, bank.challenger)]);
      for (const metric of ['test_auc', 'oot_auc', 'oot_ks'] as const) {
        const row = table.find((cells) => cells[0] === metric);
        assert.deepEqual(row, [metric, production.metrics[metric].toFixed(4), challenger.metrics[metric].toFixed(4), (challenger.metrics[metric] - production.metrics[metric]).toFixed(4)]);
      }
      const months = await page.$$eval('#compare-monthly tbody tr', (rows) => rows.map((row) => row.querySelector('td')?.textContent));
      assert.equal(months.length, 24, 'every month monitored, side by side');
      assert.equal(await page.$$eval('.chart svg', (svgs) => svgs.length), 1);
      await page.close();
    });

    await t.test('the lineage page of a month shows the source hashes its bronze partitions recorded', async () => {
      const month = '2024-03';
      const { page, text } = await visit(`/lineage?month=${month}`);
      for (const source of SOURCES) {
        const bronze = JSON.parse(readFileSync(join(partitionFile(datamart.sourceTable(config.DATAMART_DIR, 'bronze', source), month), '..', '_lineage.json'), 'utf8'));
        assert.match(bronze.inputs.slice, /^[0-9a-f]{64}$/);
        assert.ok(text.includes(bronze.inputs.slice), `${source}: slice hash ${bronze.inputs.slice} shown`);
      }
      const featureStore = JSON.parse(readFileSync(join(partitionFile(datamart.featureStore(config.DATAMART_DIR), month), '..', '_lineage.json'), 'utf8'));
      assert.ok(text.includes(featureStore.fingerprint), 'the feature store fingerprint');
      assert.match(text, /every partition current/);
      for (const modelId of [bank.production, bank.challenger]) assert.ok(text.includes(`gold/predictions/${modelId}/${month}`), `predictions of ${modelId}`);
      await page.close();
    });

    await t.test('an application shows every model’s score of it, the predictions’ own values', async () => {
      const month = '2024-03';
      const { page } = await visit(`/monitoring?model=${bank.production}&month=${month}`);
      const loan = await page.$eval('#month-rows tbody tr td', (cell) => cell.textContent ?? '');
      const probability = await page.$eval('#month-rows tbody tr td:nth-child(3)', (cell) => cell.textContent ?? '');
      await Promise.all([page.waitForNavigation(), page.click('#month-rows tbody tr td a')]);
      const scores = await page.$$eval('#scores tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
      assert.deepEqual(scores.map((row) => row[0]).sort(), [bank.production, bank.challenger].sort(), `${loan}: scored by both models`);
      assert.equal(scores.find((row) => row[0] === bank.production)?.[3], probability, 'the same probability as the month’s rows');
      // Reason codes: the explanations partition's own first reason of each model, read here with DuckDB.
      const reasons = await page.$$eval('#reasons tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
      for (const modelId of [bank.production, bank.challenger]) {
        const file = join(config.DATAMART_DIR, 'gold', 'explanations', `model_id=${modelId}`, `snapshot_date=${month}-01`, 'data.parquet');
        const [expected] = await withDuckDB((db) => queryRows(db, `SELECT reason_1, contribution_1 FROM read_parquet('${file}') WHERE loan_id = '${loan}'`));
        assert.deepEqual(reasons.find((row) => row[0] === modelId)?.[1], `${String(expected.reason_1)} (+${Number(expected.contribution_1).toFixed(4)})`, `${modelId}: reason 1`);
      }
      await page.close();
    });

    await t.test('the lineage page names the workflow run that wrote a partition, linked to the Temporal UI', async () => {
      const month = '2024-03';
      const workflowId = workflowIds.scoreMonth(month, bank.challenger);
      const handle = await env.client.workflow.start(scoreMonthWorkflow, { workflowId, taskQueue: config.TEMPORAL_TASK_QUEUE, args: [{ month, modelId: bank.challenger }] });
      await handle.result();
      const cell = await waitUntil(
        `the lineage page to name ${workflowId}`,
        async () => {
          const { page } = await visit(`/lineage?month=${month}`);
          const found = await page.$$eval('#lineage tbody tr', (rows, name) => {
            const row = rows.find((r) => r.querySelector('td')?.textContent === name);
            const link = row?.querySelector('td:last-child a');
            return link ? { text: link.textContent, href: link.getAttribute('href') } : null;
          }, `gold/predictions/${bank.challenger}/${month}`);
          await page.close();
          return found;
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      assert.equal(cell.text, workflowId);
      assert.equal(cell.href, `http://127.0.0.1:8233/namespaces/${env.namespace ?? 'default'}/workflows/${workflowId}/${handle.firstExecutionRunId}/history`);
    });

    await t.test('run monitoring through the page starts monitoringWorkflow, which logs its decision', async () => {
      const { page } = await visit('/actions');
      await page.type('#monitor-as-of', '2024-12');
      await page.select('#monitor-model', bank.challenger);
      await page.type('#monitor-reason', 'check the challenger');
      await page.type('#monitor-by', 'Ada Operator');
      const [response] = await Promise.all([page.waitForNavigation(), page.click('form[action="/actions/monitor"] button')]);
      assert.equal(response?.status(), 200);
      assert.match(await page.$eval('#outcome', (element) => element.textContent ?? ''), /Done: Ada Operator started monitoring as of 2024-12/);
      await page.close();
      const handle = env.client.workflow.getHandle(workflowIds.monitoring('2024-12'));
      await handle.result();
      const decisions = await readDecisions(config.DATAMART_DIR);
      assert.deepEqual(
        [decisions.at(-1)?.workflow_id, decisions.at(-1)?.model_id],
        ['monitoring-2024-12', bank.challenger],
      );
      assert.match((await (await handle.describe()).staticSummary()) ?? '', /check the challenger \(by Ada Operator\)/);
    });

    await t.test('a promote without a reason is refused and changes nothing', async () => {
      const before = await lifecycleStatus();
      const { page } = await visit('/actions');
      await page.select('#promote-model', bank.challenger);
      await page.type('#promote-by', 'Ada Operator');
      // The browser would not submit an empty required field: the server must refuse it on its own.
      await page.$eval('#promote-reason', (element) => element.removeAttribute('required'));
      const [response] = await Promise.all([page.waitForNavigation(), page.click('form[action="/actions/promote"] button')]);
      assert.equal(response?.status(), 400);
      assert.match(await page.$eval('#outcome', (element) => element.textContent ?? ''), /Refused: a reason is required/);
      assert.equal((await lifecycleStatus()).production, before.production);
      assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, bank.production);
      await page.close();
    });

    await t.test('a promote through the page changes model-lifecycle’s status', async () => {
      assert.equal((await lifecycleStatus()).production, bank.production);
      const { page } = await visit('/actions');
      await page.select('#promote-model', bank.challenger);
      await page.type('#promote-reason', 'challenger better on the after months');
      await page.type('#promote-by', 'Ada Operator');
      const [response] = await Promise.all([page.waitForNavigation(), page.click('form[action="/actions/promote"] button')]);
      assert.equal(response?.status(), 200);
      assert.match(await page.$eval('#outcome', (element) => element.textContent ?? ''), new RegExp(`Done: Ada Operator promoted ${bank.challenger}`));
      const status = await lifecycleStatus();
      assert.equal(status.production, bank.challenger);
      assert.equal(status.previousProduction, bank.production);
      assert.equal((await readRegistry(config.MODEL_BANK_DIR)).production, bank.challenger, 'the registry the lifecycle owns');
      assert.equal(await page.$eval('#lifecycle-production', (element) => element.textContent), bank.challenger);
      assert.equal(await page.$eval('#production-model', (element) => element.textContent), bank.challenger);
      await page.close();
      // The decision is recorded with who and why (gold/governance/promotions.parquet), and the models page shows it.
      const decision = (await readPromotions(config.DATAMART_DIR))?.at(-1);
      assert.deepEqual([decision?.action, decision?.decided_by, decision?.candidate_model_id], ['promote', 'Ada Operator', bank.challenger]);
      assert.match(String(decision?.reason), /challenger better on the after months/);
      const models = await visit('/models');
      const row = await models.page.$eval('#models tr.production', (element) => (element as HTMLElement).innerText);
      assert.match(row, new RegExp(`${bank.challenger}[\\s\\S]*Ada Operator: .*challenger better on the after months`));
      await models.page.close();
    });
  });
});
