// Issue 12's smaller items on the real dev server and the real sample: the backfill command refuses what it can check
// before any workflow starts; a failed backfill, month pipeline and training post alerts to a webhook (Slack shape with
// ALERT_FORMAT=slack) and bad alert settings are refused at config load; the staging cache keeps only the source
// versions a partition references; every command of docs/runbook.md parses against the CLI and the read-only ones run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type Config } from '../../lib/config.js';
import { SOURCE_FILES } from '../../lib/layout.js';
import { LIFECYCLE_WORKFLOW_ID, workflowIds } from '../../lib/temporal.js';
import { stagingRoot } from '../../core/etl/staging.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { backfillWorkflow, type BackfillResult } from '../../workflows/backfill.js';
import { trainingWorkflow } from '../../workflows/training.js';
import { statusQuery } from '../../workflows/model-lifecycle.js';
import { ensureLifecycle } from '../../scripts/client.js';
import type { BackfillInput } from '../../lib/workflow-inputs.js';
import { changeOneLedgerRow, copySources, editLedger } from '../helpers/sources.js';
import { FIXTURE_DIR, scratchConfig, startTemporal, withWorker } from '../helpers/temporal.js';
import { startWebhook } from '../helpers/webhook.js';

const exec = promisify(execFile);
let env: TestWorkflowEnvironment;
const scratches: Array<ReturnType<typeof scratchConfig>> = [];

before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
  for (const scratch of scratches) scratch.cleanup();
});

function scratch(name: string, overrides: Record<string, string> = {}) {
  const created = scratchConfig(name, overrides);
  scratches.push(created);
  return created;
}

/** A shell command line as a user types it, from the project root; its exit code and output. */
async function shell(line: string, extraEnv: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec('sh', ['-c', line], { cwd: PROJECT_ROOT, env: { ...process.env, ...extraEnv }, maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

function clientEnv(config: Config): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    DATAMART_DIR: config.DATAMART_DIR,
    MODEL_BANK_DIR: config.MODEL_BANK_DIR,
    REPORTS_DIR: config.REPORTS_DIR,
  };
}

async function backfillsOn(config: Config): Promise<number> {
  const { count } = await env.client.workflow.count(`WorkflowType = 'backfillWorkflow' AND TaskQueue = '${config.TEMPORAL_TASK_QUEUE}'`);
  return count;
}

test('npm run backfill refuses what it can check with exit 2 before any workflow starts', async () => {
  const { config, dir } = scratch('prestart');
  const folder = (name: string, change: (sources: string) => void) => {
    const sources = copySources(join(dir, name));
    change(sources);
    return sources;
  };
  const missingFile = folder('missing', (sources) => rmSync(join(sources, SOURCE_FILES.loan_daily)));
  const emptyFile = folder('empty', (sources) => writeFileSync(join(sources, SOURCE_FILES.attributes), ''));
  const headerOnly = folder('header', (sources) => writeFileSync(join(sources, SOURCE_FILES.financials), 'Customer_ID,snapshot_date\n'));
  const cases: Array<[string, RegExp]> = [
    [`--from 2023-05 --to 2023-01 --source ${FIXTURE_DIR}`, /--from 2023-05 is after --to 2023-01: swap them/],
    [`--from 2023-01 --to 2023-02 --source ${join(dir, 'nowhere')}`, /source folder .*nowhere does not exist/],
    [`--from 2023-01 --to 2023-02 --source ${missingFile}`, new RegExp(`${SOURCE_FILES.loan_daily} is missing`)],
    [`--from 2023-01 --to 2023-02 --source ${emptyFile}`, new RegExp(`${SOURCE_FILES.attributes} is empty`)],
    [`--from 2023-01 --to 2023-02 --source ${headerOnly}`, new RegExp(`${SOURCE_FILES.financials} has a header but no data rows`)],
    [`--from 2023-01 --to 2023-02 --train-at 2023-06 --source ${FIXTURE_DIR}`, /2023-06 lies outside 2023-01\.\.2023-02/],
  ];
  const runs = await Promise.all(cases.map(([args]) => shell(`npm run --silent backfill -- ${args}`, clientEnv(config))));
  runs.forEach((run, i) => {
    assert.equal(run.code, 2, `${cases[i][0]}:\n${run.output}`);
    assert.match(run.output, cases[i][1]);
  });
  assert.equal(await backfillsOn(config), 0, 'no backfill started');
  // The count does see a backfill the command starts (nothing polls this queue, so it just waits there).
  const started = await shell(`npm run --silent backfill -- --from 2023-01 --to 2023-01 --source ${FIXTURE_DIR} --no-wait`, clientEnv(config));
  assert.equal(started.code, 0, started.output);
  assert.equal(await backfillsOn(config), 1);
  // Its id names the source folder, so a start with other sources never attaches to this run.
  const startedId = workflowIds.backfill('2023-01', '2023-01', FIXTURE_DIR);
  assert.match(started.output, new RegExp(`backfill ${startedId} \\(run `));
  assert.notEqual(startedId, workflowIds.backfill('2023-01', '2023-01', emptyFile));
  await env.client.workflow.getHandle(startedId).terminate('test done');
  // The command also started model-lifecycle (one per namespace) on this unpolled queue: later tests start their own.
  await env.client.workflow.getHandle(LIFECYCLE_WORKFLOW_ID).terminate('test done');
});

test('bad alert settings are refused at config load, naming the variable', () => {
  assert.throws(() => loadConfig({ ALERT_WEBHOOK_URL: 'ftp://127.0.0.1/hook' }), /ALERT_WEBHOOK_URL="ftp:\/\/127\.0\.0\.1\/hook": expected an http\(s\) URL/);
  assert.throws(() => loadConfig({ ALERT_WEBHOOK_URL: 'file:///tmp/hook' }), /ALERT_WEBHOOK_URL="file:\/\/\/tmp\/hook"/);
  assert.throws(() => loadConfig({ ALERT_FORMAT: 'teams' }), /ALERT_FORMAT="teams"/);
  assert.throws(() => loadConfig({ PSI_WARNING: '0.3', PSI_CRITICAL: '0.2' }), /PSI_WARNING="0\.3": must be below PSI_CRITICAL/);
  assert.throws(() => loadConfig({ PSI_WARNING: '0.2', PSI_CRITICAL: '0.2' }), /PSI_WARNING="0\.2": must be below PSI_CRITICAL/);
  assert.throws(() => loadConfig({ PSI_WARNING: '0' }), /PSI_WARNING="0"/);
  assert.throws(() => loadConfig({ CLIENT_RECONNECT_SECONDS: 'soon' }), /CLIENT_RECONNECT_SECONDS="soon"/);
  const accepted = loadConfig({ ALERT_WEBHOOK_URL: 'https://hooks.example.com/x', ALERT_FORMAT: 'slack', PSI_WARNING: '0.05', PSI_CRITICAL: '0.3' });
  assert.equal(accepted.ALERT_FORMAT, 'slack');
  assert.equal(accepted.PSI_WARNING, 0.05);
});

interface SlackPayload {
  text: string;
  blocks: Array<{ type: string; text?: { type: string; text: string }; elements?: Array<{ type: string; text: string }> }>;
}

test('a failed backfill, month pipeline and training post alerts to the webhook (Slack shape with ALERT_FORMAT=slack)', async () => {
  const webhook = await startWebhook();
  try {
    // A month with every ledger row broken: its pipeline fails (DataQualityError), so does the backfill.
    const slack = scratch('alerts-slack', { ALERT_WEBHOOK_URL: webhook.url, ALERT_FORMAT: 'slack' });
    const sourceDir = copySources(slack.dir);
    assert.ok(editLedger(sourceDir, '2023-01', (row) => (row.loan_id = '')) > 10);
    const backfillId = workflowIds.backfill('2023-01', '2023-01', sourceDir);
    await withWorker(env, slack.config, async () => {
      const failure = await env.client.workflow
        .execute(backfillWorkflow, { workflowId: backfillId, taskQueue: slack.config.TEMPORAL_TASK_QUEUE, args: [{ from: '2023-01', to: '2023-01', sourceDir }] })
        .then(() => assert.fail('the backfill succeeded'), (error: unknown) => error);
      assert.ok(failure instanceof WorkflowFailedError);
    });
    const slackAlerts = webhook.received as SlackPayload[];
    const backfillAlert = slackAlerts.find((alert) => alert.text.includes(`backfill \`${backfillId}\``));
    const monthAlert = slackAlerts.find((alert) => alert.text.includes('month `month-2023-01`'));
    assert.ok(backfillAlert, JSON.stringify(slackAlerts));
    assert.ok(monthAlert, JSON.stringify(slackAlerts));
    assert.match(backfillAlert.text, /1 of 1 months failed: 2023-01 \(loan_daily 2023-01: \d+ of \d+ rows quarantined/);
    assert.match(monthAlert.text, /month 2023-01 failed: loan_daily 2023-01: \d+ of \d+ rows quarantined/);
    for (const alert of [backfillAlert, monthAlert]) {
      assert.deepEqual(alert.blocks.map((block) => block.type), ['section', 'context']);
      assert.equal(alert.blocks[0].text?.text, alert.text);
      assert.match(alert.blocks[1].elements?.[0].text ?? '', /^\*Action:\* \S/);
    }

    // A training with no labelled months (an empty datamart) fails: the default JSON payload.
    webhook.received.length = 0;
    const json = scratch('alerts-json', { ALERT_WEBHOOK_URL: webhook.url });
    const trainingId = workflowIds.training('2023-12', 1);
    await withWorker(env, json.config, async () => {
      await assert.rejects(
        env.client.workflow.execute(trainingWorkflow, { workflowId: trainingId, taskQueue: json.config.TEMPORAL_TASK_QUEUE, args: [{ asOf: '2023-12' }] }),
        WorkflowFailedError,
      );
    });
    assert.equal(webhook.received.length, 1, JSON.stringify(webhook.received));
    const [trainingAlert] = webhook.received as Array<Record<string, string>>;
    assert.equal(trainingAlert.source, 'credit-pipeline');
    assert.equal(trainingAlert.kind, 'training');
    assert.equal(trainingAlert.workflowId, trainingId);
    assert.match(trainingAlert.summary, /training as of 2023-12 failed: only 0 application month\(s\) have labels mature by 2023-12/);
    assert.match(trainingAlert.action, /retrain/);
  } finally {
    await webhook.close();
  }
});

/** The staged versions of one source file (folders under datamart/_staging/<source>/). */
function stagedVersions(config: Config, source: string): string[] {
  const dir = join(stagingRoot(config.DATAMART_DIR), source);
  return existsSync(dir) ? readdirSync(dir).filter((name) => !name.endsWith('.tmp')).sort() : [];
}

test('the staging cache keeps only the source versions a partition still references', async () => {
  const { config, dir } = scratch('staging');
  const sourceDir = copySources(dir);
  const backfill = (input: Partial<BackfillInput>): Promise<BackfillResult> => {
    const args: BackfillInput = { from: '2023-01', to: '2023-02', sourceDir, ...input };
    return env.client.workflow.execute(backfillWorkflow, { workflowId: workflowIds.backfill(args.from, args.to, sourceDir), taskQueue: config.TEMPORAL_TASK_QUEUE, args: [args] });
  };
  await withWorker(env, config, async () => {
    assert.deepEqual((await backfill({})).done.sort(), ['2023-01', '2023-02']);
    const [first] = stagedVersions(config, 'loan_daily');
    assert.equal(stagedVersions(config, 'loan_daily').length, 1);

    // A changed ledger: 2023-02 is recomputed from the new version; 2023-01's bronze still references the old one.
    changeOneLedgerRow(sourceDir, '2023-02', '1');
    assert.deepEqual((await backfill({})).done, ['2023-02']);
    const both = stagedVersions(config, 'loan_daily');
    assert.equal(both.length, 2);
    assert.ok(both.includes(first));
    const second = both.find((version) => version !== first)!;

    // 2023-01 recomputed too: no partition references the first version any more, so it is gone. A forced run reads
    // the files again (issue 34: --force re-hashes, whatever the cache key says): 2023-01 now references a version
    // of its own, 2023-02 still the second.
    const forced = await backfill({ from: '2023-01', to: '2023-01', months: ['2023-01'], force: true });
    assert.deepEqual(forced.done, ['2023-01']);
    const afterForce = stagedVersions(config, 'loan_daily');
    assert.ok(!afterForce.includes(first), 'the first version is gone');
    assert.ok(afterForce.includes(second), 'the second version is still referenced by 2023-02');
    assert.equal(afterForce.length, 2, `the forced run's own version and the second: ${afterForce.join(', ')}`);
    for (const source of ['attributes', 'financials', 'clickstream']) assert.equal(stagedVersions(config, source).length, 2, source);
  });
});

/** The command lines of docs/runbook.md's code blocks that run `npm run …` or `temporal …`, comments stripped. */
function runbookCommands(): string[] {
  const text = readFileSync(join(PROJECT_ROOT, 'docs', 'runbook.md'), 'utf8');
  const blocks = [...text.matchAll(/```(?:sh|bash|shell)?\n([\s\S]*?)```/g)].map((match) => match[1]);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#(?=(?:[^"]*"[^"]*")*[^"]*$).*$/, '').trim())
    // A placeholder such as <id> stands for a value the reader fills in.
    .map((line) => line.replace(/<(\w+)>/g, 'example-$1'))
    .filter((line) => /^(npm run|temporal) /.test(line));
}

test("the runbook's commands parse against the CLI as written, and the read-only ones run", async () => {
  const commands = runbookCommands();
  const scripts = new Set(commands.filter((line) => line.startsWith('npm run')).map((line) => line.split(' ')[2]));
  for (const script of ['backfill', 'status', 'rollback', 'promote']) assert.ok(scripts.has(script), `the runbook shows npm run ${script}`);
  assert.ok(commands.some((line) => line.startsWith('temporal workflow cancel')));

  const { config, dir } = scratch('runbook');
  const temporalEnv = { ...clientEnv(config), PATH: `${join(PROJECT_ROOT, '.tools', 'bin')}:${process.env.PATH}` };
  // Every command with --help appended: an option the CLI does not know fails the parse (exit 2, or 1 for temporal).
  const withHelp = (line: string) => (line.startsWith('npm run') && !line.includes(' -- ') ? `${line} -- --help` : `${line} --help`);
  const parsed: Array<{ line: string; code: number; output: string }> = [];
  for (let i = 0; i < commands.length; i += 3) {
    const batch = commands.slice(i, i + 3);
    parsed.push(...(await Promise.all(batch.map(async (line) => ({ line, ...(await shell(`${withHelp(line)}`, temporalEnv)) })))));
  }
  for (const { line, code, output } of parsed) {
    assert.equal(code, 0, `${line}:\n${output}`);
    assert.match(output, line.startsWith('npm run') ? /usage: npm run / : /Usage:/, line);
  }

  // The read-only ones for real, against the dev server and a worker.
  // Each distinct one (the runbook shows `npm run status` in more than one section).
  const readOnly = [...new Set(commands.filter((line) => line === 'npm run status' || line.startsWith('temporal workflow list')))];
  assert.equal(readOnly.length, 2, readOnly.join('\n'));
  mkdirSync(dir, { recursive: true });
  await withWorker(env, config, async () => {
    // model-lifecycle answers once the worker ran its first task; a cold worker on a loaded machine may take longer
    // than a query waits, which is not what this test is about.
    const lifecycle = await ensureLifecycle(env.client, config);
    for (let tries = 0; !(await lifecycle.query(statusQuery).then(() => true, () => false)); tries++) assert.ok(tries < 5, 'model-lifecycle never answered');
    for (const line of readOnly) {
      const run = await shell(line, temporalEnv);
      assert.equal(run.code, 0, `${line}:\n${run.output}`);
      if (line === 'npm run status') assert.match(run.output, /^production: +none$/m);
    }
  });
});
