// The image's worker starts from exactly the Dockerfile's files: its stages laid out as folders (test/helpers/dockerfile.ts:
// the build stage's tsc and workflow bundle, production dependencies only), the runtime stage's CMD run with plain
// node against a real Temporal dev server until its own HEALTHCHECK says it polls and the server lists it as a poller.
// The same check on a Dockerfile that leaves runtime files out must fail.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PROJECT_ROOT, freePort, stopProcess } from '../../workers/dev-server.js';
import { execForm, lastInstruction, layOutImage, parseDockerfile, type LaidOutStage } from '../helpers/dockerfile.js';
import { scratchConfig, startTemporal } from '../helpers/temporal.js';

const DOCKERFILE = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');

/** The container's command with plain node (the image's `node`), its ENV, and the test's server and scratch folders. */
function imageCommand(argv: string[]): [string, string[]] {
  assert.equal(argv[0], 'node', `the image's commands run node itself, not ${argv[0]}`);
  return [process.execPath, argv.slice(1)];
}

interface StartOutcome {
  polled: boolean;
  detail: string;
}

describe('the worker image', { timeout: 900_000 }, () => {
  let env: TestWorkflowEnvironment;
  let root: string;
  before(async () => {
    env = await startTemporal();
    root = mkdtempSync(join(tmpdir(), 'credit-pipeline-image-'));
  });
  after(async () => {
    await env?.teardown();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Lays out `dockerfile`, runs its CMD, and waits until its HEALTHCHECK passes (polled) or the worker exits. */
  async function startFromImage(dockerfile: string): Promise<StartOutcome & { image?: LaidOutStage }> {
    let image: LaidOutStage;
    try {
      image = layOutImage(dockerfile, { root });
    } catch (error) {
      return { polled: false, detail: `layout failed: ${(error as Error).message}` };
    }
    const scratch = scratchConfig('image');
    const metricsPort = await freePort();
    const taskQueue = scratch.config.TEMPORAL_TASK_QUEUE;
    const processEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: scratch.dir,
      ...image.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATAMART_DIR: scratch.config.DATAMART_DIR,
      MODEL_BANK_DIR: scratch.config.MODEL_BANK_DIR,
      REPORTS_DIR: scratch.config.REPORTS_DIR,
      WORKER_METRICS_HOST: '127.0.0.1',
      WORKER_METRICS_PORT: String(metricsPort),
    };
    const cmd = lastInstruction(image.stage, 'CMD');
    const healthcheck = lastInstruction(image.stage, 'HEALTHCHECK');
    assert.ok(cmd && healthcheck, 'the runtime stage has a CMD and a HEALTHCHECK');
    const [program, args] = imageCommand(execForm(cmd.text));
    const worker = spawn(program, args, { cwd: image.dir, env: processEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    worker.stdout.on('data', (chunk) => (output += chunk));
    worker.stderr.on('data', (chunk) => (output += chunk));
    try {
      const deadline = Date.now() + 180_000;
      for (;;) {
        if (worker.exitCode !== null || worker.signalCode !== null) return { polled: false, detail: `worker exited (${worker.exitCode ?? worker.signalCode}):\n${output}`, image };
        if (Date.now() > deadline) return { polled: false, detail: `not ready in time:\n${output}`, image };
        const [checkProgram, checkArgs] = imageCommand(execForm(healthcheck.text));
        const check = spawnSync(checkProgram, checkArgs, { cwd: image.dir, env: processEnv, encoding: 'utf8' });
        if (check.status === 0) {
          // The server's own view: the task queue has this worker as a workflow poller.
          const described = await env.client.workflowService.describeTaskQueue({
            namespace: env.namespace ?? 'default',
            taskQueue: { name: taskQueue },
            taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
          });
          const pollers = described.pollers?.length ?? 0;
          return { polled: pollers > 0, detail: `healthcheck: ${check.stdout.trim()}; server sees ${pollers} poller(s)\n${output}`, image };
        }
        await new Promise((wait) => setTimeout(wait, 1000));
      }
    } finally {
      await stopProcess(worker, 45_000);
      scratch.cleanup();
    }
  }

  test('starts from exactly the COPY set with production dependencies only, and polls', async () => {
    const outcome = await startFromImage(DOCKERFILE);
    assert.ok(outcome.polled, outcome.detail);
    const app = outcome.image!.dir;
    assert.ok(existsSync(join(app, 'dist', 'workflow-bundle.js')), 'the prebuilt workflow bundle is in the image');
    for (const devOnly of ['tsx', 'typescript', 'eslint', '@temporalio/testing']) {
      assert.ok(!existsSync(join(app, 'node_modules', devOnly)), `${devOnly} (a devDependency) is not in the image`);
    }
    assert.ok(!existsSync(join(app, 'workers')) && !existsSync(join(app, 'core')), 'no TypeScript sources in the runtime image');
    // Structured logs: every line the worker printed is a JSON object.
    const lines = outcome.detail.split('\n').slice(1).filter((line) => line.trim().startsWith('{'));
    assert.ok(lines.some((line) => (JSON.parse(line) as { message: string }).message.includes('polling task queue')), outcome.detail);
  });

  test('fails when the runtime stage leaves out files the worker imports', async () => {
    // The original defect's shape: the entry point is there, a module it imports is not.
    const partial = DOCKERFILE.replace(
      'COPY --from=build /app/dist ./dist',
      'COPY --from=build /app/dist/workers ./dist/workers\nCOPY --from=build /app/dist/workflow-bundle.js ./dist/',
    );
    assert.notEqual(partial, DOCKERFILE, 'the mutation applies to the Dockerfile');
    const outcome = await startFromImage(partial);
    assert.equal(outcome.polled, false, outcome.detail);
    assert.match(outcome.detail, /ERR_MODULE_NOT_FOUND|Cannot find module/);
  });

  test('fails when the runtime stage leaves out the production dependencies', async () => {
    const stages = parseDockerfile(DOCKERFILE);
    assert.ok(stages.some((stage) => stage.name === 'deps'), 'the Dockerfile has its production-dependencies stage');
    const withoutModules = DOCKERFILE.replace('COPY --from=deps /app/node_modules ./node_modules\n', '');
    assert.notEqual(withoutModules, DOCKERFILE, 'the mutation applies to the Dockerfile');
    const outcome = await startFromImage(withoutModules);
    assert.equal(outcome.polled, false, outcome.detail);
    assert.match(outcome.detail, /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  });
});
