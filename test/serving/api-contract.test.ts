// The scoring API's contract: the OpenAPI 3.1 document at /openapi.json validates (a maintained validator), describes
// every route, and takes its request schema from the zod schema that validates requests; the curl example of
// docs/serving.md answers 200; with keys configured a request without (or with a wrong) key gets 401; listening beyond
// loopback without keys refuses to start; every answer and the log lines about it carry the request id.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { z } from 'zod';
import { ConfigError } from '../../lib/config.js';
import { registerModel } from '../../core/models/bank.js';
import { trainCandidate } from '../../core/models/candidate.js';
import { promote } from '../../core/models/registry.js';
import { buildTrainingSet } from '../../core/models/training-set.js';
import { releaseScoringSessions } from '../../core/scoring/model-loader.js';
import { newApiKey } from '../../core/serving/api-keys.js';
import { startScoringServer, type ScoringServer, type ServeOptions } from '../../core/serving/app.js';
import { testServeOptions } from '../helpers/serve-options.js';
import { scoreRequestSchema } from '../../core/serving/request.js';
import { REQUIRED_COLUMNS } from '../../core/etl/source-columns.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import { scratchConfig } from '../helpers/temporal.js';
import { sampleDatamart } from '../helpers/sample-cache.js';

const run = promisify(execFile);
const scratch = scratchConfig('api-contract');
const { config } = scratch;
const { key, hash } = newApiKey();
const logs: string[] = [];
let server: ScoringServer;
let modelId: string;

const options = (overrides: Partial<ServeOptions> = {}): ServeOptions => testServeOptions(config, logs, { apiKeys: hash, ...overrides });

/** The fenced shell block after `marker` in a Markdown file (the README's copy is checked the same way). */
export function exampleAfter(markdown: string, marker: string): string {
  const at = markdown.indexOf(marker);
  assert.ok(at >= 0, `no ${marker} in the page`);
  const block = /```sh\n([\s\S]*?)\n```/.exec(markdown.slice(at));
  assert.ok(block, `no fenced sh block after ${marker}`);
  return block[1];
}

before(async () => {
  // A production model on the real sample (one gblinear: the contract needs a model, not the best one).
  await sampleDatamart(config); // the ETL of every month
  const trainingSet = await buildTrainingSet({ datamartDir: config.DATAMART_DIR, modelBankDir: config.MODEL_BANK_DIR, asOf: '2024-12' });
  const candidate = await trainCandidate({ trainingSet, family: 'gblinear' });
  modelId = (await registerModel({ modelBankDir: config.MODEL_BANK_DIR, trainingSet, candidate, workflow: { workflowId: 'training-api-test', runId: 'run' } })).modelId;
  await promote(config.MODEL_BANK_DIR, modelId, 'api contract test');
  server = await startScoringServer(options());
});

after(async () => {
  await server?.close();
  await releaseScoringSessions();
  scratch.cleanup();
});

test('/openapi.json is a valid OpenAPI 3.1 document describing every route, its request schema the validating one', async () => {
  const response = await fetch(`${server.url}/openapi.json`);
  assert.equal(response.status, 200, 'open without a key');
  const document = (await response.json()) as {
    openapi: string;
    info: { description: string };
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; security?: unknown[] }>>;
  };
  assert.equal(document.openapi, '3.1.0');
  const validator = new Validator();
  const result = await validator.validate(document);
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, '3.1');

  const described = server.routes.filter((route) => !route.hidden && !route.url.startsWith('/docs') && route.method !== 'HEAD');
  assert.ok(described.length >= 5, JSON.stringify(server.routes));
  for (const route of described) {
    assert.ok(document.paths[route.url]?.[route.method.toLowerCase()], `${route.method} ${route.url} is not in the document`);
  }
  for (const path of Object.keys(document.paths)) {
    assert.ok(server.routes.some((route) => route.url === path), `the document describes ${path}, which the server does not serve`);
  }

  // The body schema is the zod schema's own JSON Schema: its columns, its batch limit.
  const body = document.paths['/v1/score'].post.requestBody!.content['application/json'].schema as {
    properties: { application: { properties: Record<string, { properties?: Record<string, unknown> }> }; applications: { maxItems: number } };
  };
  assert.equal(body.properties.applications.maxItems, 8, 'the configured SERVE_MAX_BATCH');
  assert.deepEqual(Object.keys(body.properties.application.properties.loan.properties ?? {}).sort(), [...REQUIRED_COLUMNS.loan_daily].sort());
  const fromZod = z.toJSONSchema(scoreRequestSchema(8), { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.properties).sort(), Object.keys(fromZod.properties).sort());
  assert.ok(document.paths['/v1/score'].post.security?.length, 'the document says /v1/score needs a key');
  assert.match(document.info.description, /262144 bytes/, 'the body limit is documented');
  assert.match(document.info.description, /at most 8 applications per request/, 'the batch limit is documented');

  const docsPage = await fetch(`${server.url}/docs/`);
  assert.equal(docsPage.status, 200);
  assert.match(await docsPage.text(), /swagger/i);
});

for (const page of ['docs/serving.md', 'README.md']) test(`the curl example of ${page} answers 200 with a score`, async () => {
  const example = exampleAfter(readFileSync(join(PROJECT_ROOT, page), 'utf8'), '<!-- scoring-api-example -->');
  const { stdout } = await run('sh', ['-c', example], { env: { PATH: process.env.PATH, SCORING_API_URL: server.url, SCORING_API_KEY: key } });
  const answer = JSON.parse(stdout) as { model_id: string; default_probability: number; loan_id: string };
  assert.equal(answer.model_id, modelId);
  assert.ok(answer.default_probability > 0 && answer.default_probability < 1, stdout);
  // curl -f fails on an error status, so the example's exit status is the check; the same example without a key fails.
  await assert.rejects(run('sh', ['-c', example], { env: { PATH: process.env.PATH, SCORING_API_URL: server.url, SCORING_API_KEY: 'wrong' } }), /401/);
});

test('with keys configured, /v1 needs a valid key (Bearer or X-API-Key); probes and the document stay open', async () => {
  const noKey = await fetch(`${server.url}/v1/model`);
  assert.equal(noKey.status, 401);
  assert.equal(noKey.headers.get('www-authenticate'), 'Bearer');
  assert.equal(((await noKey.json()) as { error: string }).error, 'unauthorized');
  const wrongKey = await fetch(`${server.url}/v1/score`, { method: 'POST', headers: { authorization: `Bearer ${key}x`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(wrongKey.status, 401, 'a wrong key is refused before the body is looked at');
  const bearer = await fetch(`${server.url}/v1/model`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(bearer.status, 200);
  assert.equal(((await bearer.json()) as { model_id: string }).model_id, modelId);
  assert.equal((await fetch(`${server.url}/v1/model`, { headers: { 'x-api-key': key } })).status, 200);
  for (const open of ['/healthz', '/readyz', '/metrics', '/openapi.json']) assert.equal((await fetch(`${server.url}${open}`)).status, 200, open);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /kind="unauthorized"/);
});

test('every answer carries a request id; a caller id is kept; the error log line names it', async () => {
  const healthy = await fetch(`${server.url}/healthz`);
  assert.match(healthy.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const callerId = 'gateway-1234.abc';
  const bad = await fetch(`${server.url}/v1/score`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': callerId },
    body: JSON.stringify({ applications: [] }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('x-request-id'), callerId);
  const body = (await bad.json()) as { request_id: string; message: string };
  assert.equal(body.request_id, callerId);
  assert.match(body.message, /applications: /);
  for (const unsafeId of ['a b<script>', 'x'.repeat(129)]) {
    const unsafe = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': unsafeId } });
    assert.match(unsafe.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, `the caller id ${unsafeId.slice(0, 20)} is replaced`);
  }
  await new Promise((wait) => setTimeout(wait, 200));
  const lines = logs.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { request_id?: string; status?: number });
  assert.ok(lines.some((line) => line.request_id === callerId && line.status === 400), `the failed request is logged with its id: ${logs.join("").slice(-2000)}`);
});

test('batches over the limit get 400 naming it', async () => {
  const example = exampleAfter(readFileSync(join(PROJECT_ROOT, 'docs', 'serving.md'), 'utf8'), '<!-- scoring-api-example -->');
  const application = (JSON.parse(/<<'JSON'\n([\s\S]*?)\nJSON/.exec(example)![1]) as { application: unknown }).application;
  const answer = await fetch(`${server.url}/v1/score`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ applications: Array.from({ length: 9 }, () => application) }),
  });
  assert.equal(answer.status, 400);
  assert.match(((await answer.json()) as { message: string }).message, /applications: Too big: expected array to have <=8 items/);
});

test('listening beyond loopback without keys refuses to start, naming SERVE_API_KEYS', async () => {
  await assert.rejects(startScoringServer(options({ host: '0.0.0.0', apiKeys: undefined })), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /SERVE_HOST=0\.0\.0\.0 .*SERVE_API_KEYS/);
    return true;
  });
});
