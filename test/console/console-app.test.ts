// The console's server without a browser (Fastify's inject): over an empty datamart and model bank every page says
// what is missing instead of failing; actions are refused without a reason before anything reaches Temporal; bound
// beyond loopback it needs the operator token (sign-in cookie or Bearer header); cross-site posts are refused; every
// value is escaped; every response says its server time.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildConsoleApp, startConsole, type ConsoleTemporal } from '../../core/console/app.js';
import { scratchConfig } from '../helpers/temporal.js';

const scratch = scratchConfig('console-app');
const TOKEN = 'a-token-of-sixteen-chars';
const apps: FastifyInstance[] = [];
after(async () => {
  for (const app of apps) await app.close();
  scratch.cleanup();
});

async function app(options: { token?: string; temporal?: ConsoleTemporal | null } = {}): Promise<FastifyInstance> {
  const built = await buildConsoleApp({ config: { ...scratch.config, CONSOLE_TOKEN: options.token }, temporal: options.temporal ?? null });
  apps.push(built);
  return built;
}

test('over an empty datamart and model bank every page renders and says what is missing', async () => {
  const console = await app();
  const expectations: Array<[string, RegExp]> = [
    ['/models', /Not available yet:.*models.*no registered model/s],
    ['/monitoring', /Not available yet:.*monitoring.*no registered model/s],
    ['/lineage', /Not available yet:.*lineage.*no feature-store partition/s],
    ['/application?loan_id=LOAN_1', /No application LOAN_1 in the feature store/],
    ['/application?loan_id=LOAN_1', /Not available yet:.*reason codes/s],
    ['/actions', /model-lifecycle status is unavailable: no Temporal connection/],
  ];
  for (const [path, expected] of expectations) {
    const response = await console.inject(path);
    assert.equal(response.statusCode, 200, path);
    assert.match(response.body, expected, path);
    assert.match(String(response.headers['server-timing']), /^total;dur=\d+(\.\d)?$/, `${path}: Server-Timing`);
  }
  assert.equal((await console.inject('/compare?a=x&b=y')).statusCode, 400);
  assert.equal((await console.inject('/models/none')).statusCode, 404);
});

test('an action without a reason or a name is refused before it reaches Temporal', async () => {
  const calls: string[] = [];
  const refuse = async (): Promise<never> => {
    calls.push('called');
    throw new Error('must not be called');
  };
  const temporal: ConsoleTemporal = {
    namespace: 'default',
    listRuns: async () => [],
    status: async () => ({ production: null, previousProduction: null, training: false, currentTraining: null }),
    promote: refuse,
    rollback: refuse,
    forceRetrain: refuse,
    runMonitoring: refuse,
  };
  const console = await app({ temporal });
  const post = (path: string, payload: string) => console.inject({ method: 'POST', url: path, payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const cases: Array<[string, string, RegExp]> = [
    ['/actions/promote', 'model=m1&reason=&by=Ada', /Refused: a reason is required/],
    ['/actions/promote', 'model=m1&reason=+++&by=Ada', /Refused: a reason is required/],
    ['/actions/promote', 'model=m1&reason=better', /Refused: a name \(who acts\) is required/],
    ['/actions/rollback', 'by=Ada', /Refused: a reason is required/],
    ['/actions/retrain', 'reason=&by=Ada', /Refused: a reason is required/],
    ['/actions/monitor', 'asOf=2024-13&reason=x&by=Ada', /Refused: expected a month as YYYY-MM/],
  ];
  for (const [path, payload, expected] of cases) {
    const response = await post(path, payload);
    assert.equal(response.statusCode, 400, `${path} ${payload}`);
    assert.match(response.body, expected, `${path} ${payload}`);
  }
  assert.deepEqual(calls, [], 'nothing reached Temporal');
  const crossSite = await console.inject({ method: 'POST', url: '/actions/rollback', payload: 'reason=x&by=y', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example', host: 'localhost:8090' } });
  assert.equal(crossSite.statusCode, 403);
  assert.deepEqual(calls, []);
});

test('beyond loopback the console needs a token: sign-in cookie or Bearer header', async () => {
  await assert.rejects(
    startConsole({ config: { ...scratch.config, CONSOLE_TOKEN: undefined }, temporal: null, host: '0.0.0.0', port: 0 }),
    /CONSOLE_HOST=0\.0\.0\.0 is not a loopback address: set CONSOLE_TOKEN/,
  );
  const console = await app({ token: TOKEN });
  const anonymous = await console.inject('/models');
  assert.equal(anonymous.statusCode, 302);
  assert.equal(anonymous.headers.location, '/login?next=%2Fmodels');
  assert.equal((await console.inject({ method: 'POST', url: '/actions/rollback', payload: 'reason=x&by=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode, 401);
  assert.equal((await console.inject({ url: '/models', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
  assert.equal((await console.inject({ url: '/models', headers: { authorization: 'Bearer wrong-token-of-length' } })).statusCode, 302);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  assert.equal((await console.inject({ method: 'POST', url: '/login', payload: 'token=nope&next=/lineage', headers: form })).statusCode, 401);
  const signedIn = await console.inject({ method: 'POST', url: '/login', payload: `token=${TOKEN}&next=/lineage`, headers: form });
  assert.equal(signedIn.statusCode, 303);
  assert.equal(signedIn.headers.location, '/lineage');
  const cookie = String(signedIn.headers['set-cookie']).split(';')[0];
  assert.match(String(signedIn.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
  assert.equal((await console.inject({ url: '/lineage', headers: { cookie } })).statusCode, 200);
  assert.equal((await console.inject('/assets/vega-embed.min.js')).statusCode, 200, 'the browser builds need no token');
});

test('values are escaped: a model id in the URL comes back as text, not markup', async () => {
  const console = await app();
  const response = await console.inject('/models/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
  assert.equal(response.statusCode, 404);
  assert.ok(!response.body.includes('<script>alert(1)</script>'));
  assert.match(response.body, /No model &lt;script&gt;alert\(1\)&lt;\/script&gt; in the model bank/);
});
