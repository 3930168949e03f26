// docker-compose.temporal.yml against `npm run cluster`'s own definitions (scripts/cluster/settings.ts): the same
// images and versions, the same server environment (the embedded config template both render), ports, schema steps,
// search attributes, start order, healthchecks, secrets from .env only, and worker volumes the image prepares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../workers/dev-server.js';
import {
  DYNAMIC_CONFIG_FILE, SCHEMA_PATH, SEARCH_ATTRIBUTE_NAMES, SERVER_SERVICES, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION, loadClusterSettings,
  schemaSteps, servicePorts, sqlToolEnvironment, temporalServerEnvironment,
} from '../../scripts/cluster/settings.js';
import { readCompose, type ComposeService } from './compose-file.js';

const compose = readCompose(join(PROJECT_ROOT, 'docker-compose.temporal.yml'));
const settings = loadClusterSettings({});
const services = compose.services;
const roleService = (role: string) => services[`temporal-${role}`];
const CONTAINER_DYNAMIC_CONFIG = '/etc/temporal/config/dynamicconfig/credit-pipeline.yaml';
const ENV_USER = '${POSTGRES_USER}';
const ENV_PASSWORD = '${POSTGRES_PASSWORD}';
const commandText = (service: ComposeService) => [service.command ?? []].flat().join('\n');
const stringEnvironment = (service: ComposeService) => Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));

test('the cluster defaults are the documented ones', () => {
  assert.equal(settings.frontendPort, 7433);
  assert.equal(settings.uiPort, 8433);
  assert.equal(settings.postgresPort, 55432);
  assert.ok(settings.historyShards > 1);
  assert.throws(() => loadClusterSettings({ CLUSTER_FRONTEND_PORT: 'seven' }), /CLUSTER_FRONTEND_PORT="seven"/);
  assert.throws(() => loadClusterSettings({ CLUSTER_UI_PORT: '7434' }), /overlap/);
  assert.throws(() => loadClusterSettings({ CLUSTER_HISTORY_SHARDS: '1' }), /CLUSTER_HISTORY_SHARDS/);
  assert.throws(() => loadClusterSettings({ CLUSTER_FRONTEND_PORT: '40000' }), /smallint/);
});

test('every Temporal service runs the cluster server version with the cluster environment', () => {
  for (const role of SERVER_SERVICES) {
    const service = roleService(role);
    assert.ok(service, `compose has no temporal-${role} service`);
    assert.equal(service.image, `temporalio/server:${TEMPORAL_SERVER_VERSION}`, role);
    const expected = {
      ...temporalServerEnvironment(settings, {
        postgresHost: 'postgresql', postgresUser: ENV_USER, postgresPassword: ENV_PASSWORD, bindIp: '0.0.0.0', dynamicConfigFile: CONTAINER_DYNAMIC_CONFIG,
      }),
      TEMPORAL_SERVICES: role,
    };
    assert.deepEqual(stringEnvironment(service), expected, `temporal-${role} environment`);
    assert.ok(service.volumes?.includes(`./${relative(PROJECT_ROOT, DYNAMIC_CONFIG_FILE)}:${CONTAINER_DYNAMIC_CONFIG}:ro`), `temporal-${role} mounts the cluster's dynamic config`);
    const grpcPort = String(servicePorts(settings.frontendPort)[role].grpc);
    // The frontend answers gRPC health for the WorkflowService (the admin-tools CLI asks it); the others serve none.
    const healthcheck =
      role === 'frontend'
        ? ['CMD', '/opt/temporal-cli/temporal', 'operator', 'cluster', 'health', '--address', `127.0.0.1:${grpcPort}`]
        : ['CMD', 'nc', '-z', '127.0.0.1', grpcPort];
    assert.deepEqual(service.healthcheck?.test, healthcheck, `temporal-${role} healthcheck`);
  }
});

test('the services start one after the other in the cluster order, after the schema', () => {
  const [first, ...rest] = SERVER_SERVICES;
  assert.deepEqual(roleService(first).depends_on, {
    'temporal-schema': { condition: 'service_completed_successfully' },
    'temporal-cli': { condition: 'service_completed_successfully' },
  });
  rest.forEach((role, i) => {
    assert.deepEqual(roleService(role).depends_on, { [`temporal-${SERVER_SERVICES[i]}`]: { condition: 'service_healthy' } }, role);
  });
});

test('the schema container runs the cluster schema steps with temporal-sql-tool of the same version', () => {
  const schema = services['temporal-schema'];
  assert.equal(schema.image, `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
  assert.deepEqual(stringEnvironment(schema), sqlToolEnvironment(settings, 'postgresql', ENV_USER, ENV_PASSWORD));
  const lines = commandText(schema).split('\n').map((line) => line.trim()).filter((line) => line.startsWith('temporal-sql-tool'));
  const steps = schemaSteps(`/etc/temporal/schema/${SCHEMA_PATH}`).map((step) => `temporal-sql-tool ${step.join(' ')}`);
  assert.equal(lines.length, steps.length);
  steps.forEach((step, i) => assert.ok(lines[i].startsWith(step), `step ${i + 1}: expected '${step}', found '${lines[i]}'`));
});

test('PostgreSQL listens on the cluster port and is health-checked', () => {
  const postgres = services.postgresql;
  assert.equal(String(postgres.environment?.PGPORT), String(settings.postgresPort));
  assert.match(postgres.healthcheck?.test.join(' ') ?? '', new RegExp(`pg_isready .*-p ${settings.postgresPort}`));
  assert.ok(postgres.volumes?.some((volume) => volume.endsWith(':/var/lib/postgresql/data')), 'persisted on a volume');
});

test('the setup container registers the namespace and the search attributes of SPEC §5', () => {
  const setup = services['temporal-setup'];
  assert.equal(setup.image, `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
  assert.equal(setup.environment?.TEMPORAL_ADDRESS, `temporal-frontend:${settings.frontendPort}`);
  const text = commandText(setup);
  assert.match(text, new RegExp(`namespace create --namespace ${settings.namespace}\\b`));
  const loop = /for name in ([^;]+);/.exec(text);
  assert.deepEqual(loop?.[1].trim().split(/\s+/).sort(), [...SEARCH_ATTRIBUTE_NAMES].sort());
  assert.match(text, /search-attribute create --namespace default --name "\$\$name" --type Keyword/);
});

test('the Web UI is the cluster UI version on the cluster UI port, against the frontend', () => {
  const ui = services['temporal-ui'];
  assert.equal(ui.image, `temporalio/ui:${TEMPORAL_UI_VERSION}`);
  assert.equal(ui.environment?.TEMPORAL_ADDRESS, `temporal-frontend:${settings.frontendPort}`);
  assert.equal(String(ui.environment?.TEMPORAL_UI_PORT), String(settings.uiPort));
  assert.deepEqual(ui.ports, [`127.0.0.1:${settings.uiPort}:${settings.uiPort}`]);
  assert.ok(ui.healthcheck, 'UI healthcheck');
  assert.deepEqual(roleService('frontend').ports, [`127.0.0.1:${settings.frontendPort}:${settings.frontendPort}`]);
});

test('every published port is bound to 127.0.0.1', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port}`);
  }
});

test('credentials come only from .env, and .env.example names every variable compose reads', () => {
  const text = readFileSync(join(PROJECT_ROOT, 'docker-compose.temporal.yml'), 'utf8');
  const referenced = new Set([...text.matchAll(/(?<!\$)\$\{([A-Z_]+)/g)].map((match) => match[1]));
  const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
  const defined = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]));
  for (const variable of referenced) assert.ok(defined.has(variable), `.env.example lacks ${variable}`);
  for (const [name, service] of Object.entries(services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (/PASSWORD|PWD|SECRET|TOKEN/.test(key)) assert.match(String(value), /^\$\{[A-Z_]+(:\?[^}]*)?\}$/, `${name}.${key} is not taken from .env`);
    }
  }
  const ignored = readFileSync(join(PROJECT_ROOT, '.gitignore'), 'utf8').split('\n');
  assert.ok(ignored.includes('.env'), '.env is git-ignored');
});

test('workers share the outputs on volumes whose mount points the image creates for its user', () => {
  const worker = services.worker;
  const environment = stringEnvironment(worker);
  assert.equal(environment.TEMPORAL_ADDRESS, `temporal-frontend:${settings.frontendPort}`);
  const mounts = new Map((worker.volumes ?? []).map((volume) => [volume.split(':')[1], volume.split(':')[0]]));
  for (const key of ['DATAMART_DIR', 'MODEL_BANK_DIR', 'REPORTS_DIR']) {
    const target = environment[key];
    const volume = mounts.get(target);
    assert.ok(volume, `${key}=${target} is not mounted`);
    assert.ok(compose.volumes && volume in compose.volumes, `${target} is on the named volume ${volume}`);
  }
  const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const user = dockerfile.indexOf('\nUSER node');
  const prepare = /RUN mkdir -p ([^\n\\]+)\\?\s*&& chown -R node:node (\S+)/.exec(dockerfile);
  assert.ok(prepare && prepare.index < user, 'the Dockerfile creates and chowns the mount points before USER node');
  const created = prepare[1].trim().split(/\s+/);
  for (const target of mounts.keys()) {
    assert.ok(created.includes(target) && target.startsWith(prepare[2]), `${target} is created and owned by node in the image`);
  }
});

test('the workers and the scoring API run the image with a healthcheck, a restart policy and resource limits', () => {
  for (const name of ['worker', 'scoring-api']) {
    const service = services[name] as ComposeService & { restart?: string; deploy?: { resources?: { limits?: Record<string, string> } } };
    assert.ok(service, `compose has a ${name} service`);
    assert.ok(service.healthcheck?.test.some((part) => part.includes('dist/workers/healthcheck.js') || part.includes('/healthz')), `${name} healthcheck`);
    assert.equal(service.restart, 'unless-stopped', `${name} restart policy`);
    assert.ok(service.deploy?.resources?.limits?.cpus && service.deploy.resources.limits.memory, `${name} resource limits`);
  }
  assert.equal(String(services['scoring-api'].environment?.SERVE_HOST), '0.0.0.0');
  assert.match(String(services['scoring-api'].environment?.SERVE_API_KEYS), /^\$\{SERVE_API_KEYS:\?/, 'the API beyond loopback requires keys');
});
