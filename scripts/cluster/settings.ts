// What the local production cluster is made of: versions, ports, database names, the server's environment. One
// source for `npm run cluster`, docker-compose.temporal.yml (test/cluster/compose-consistency.test.ts holds the two
// together) and the cluster tests. Ports and folders come from the environment, validated with zod.
import { resolve } from 'node:path';
import { z } from 'zod';
import { ALL_SEARCH_ATTRIBUTES } from '../../lib/temporal.js';
import { PROJECT_ROOT } from '../../workers/dev-server.js';

/** The server the Temporal CLI 1.9.1's dev server embeds, built from its Go module (scripts/cluster/binaries.ts). */
export const TEMPORAL_SERVER_VERSION = '1.32.0';
/** The Web UI the CLI 1.9.1 embeds, built from the UI server's own Go module. */
export const TEMPORAL_UI_VERSION = '2.54.1';
export const SQL_PLUGIN = 'postgres12';
/** Under the server module's schema/ folder (and /etc/temporal/schema in the admin-tools image). */
export const SCHEMA_PATH = 'postgresql/v12';
export const DATABASES = [
  { name: 'temporal', schema: 'temporal' },
  { name: 'temporal_visibility', schema: 'visibility' },
] as const;
export const POSTGRES_USER = 'temporal';
/** Start order: history first (it initialises the cluster metadata), the others once it listens (see startServices). */
export const SERVER_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ServerService = (typeof SERVER_SERVICES)[number];
export const SEARCH_ATTRIBUTE_NAMES = ALL_SEARCH_ATTRIBUTES.map((key) => key.name);
/** The dynamic config both the cluster and compose give the server (compose mounts this very file). */
export const DYNAMIC_CONFIG_FILE = resolve(PROJECT_ROOT, 'scripts/cluster/dynamicconfig.yaml');

const port = (fallback: number) => z.coerce.number().int().min(1024).max(65_000).default(fallback);

export const clusterSettingsSchema = z.object({
  /**
   * gRPC of the frontend; the other services' ports are derived from it (servicePorts). At most 32661: the schema
   * stores membership ports (frontend + 100..106) as a PostgreSQL smallint.
   */
  CLUSTER_FRONTEND_PORT: port(7433).refine((value) => value + 106 <= 32_767, 'at most 32661: membership ports (this + 100..106) must fit a smallint'),
  /** The cluster's Web UI. */
  CLUSTER_UI_PORT: port(8433),
  /** The cluster's private PostgreSQL (loopback only). */
  CLUSTER_POSTGRES_PORT: port(55432),
  /** Fixed when the cluster's database is created: the server refuses to start on a different count later. */
  CLUSTER_HISTORY_SHARDS: z.coerce.number().int().min(2).max(1024).default(4),
  /** Pid files, logs, the PostgreSQL data folder; relative paths are taken from the project root. */
  CLUSTER_STATE_DIR: z.string().min(1).default('.temporal/cluster'),
  /** The Temporal services' log level. */
  CLUSTER_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
  /** The namespace `up` creates with the search attributes, and the one workers and clients use. */
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
});

export interface ClusterSettings {
  frontendPort: number;
  uiPort: number;
  postgresPort: number;
  historyShards: number;
  stateDir: string;
  logLevel: string;
  namespace: string;
  address: string;
  uiUrl: string;
}

export class ClusterSettingsError extends Error {}

/** Reads and validates the environment; a bad value throws a message naming the variable. */
export function loadClusterSettings(env: NodeJS.ProcessEnv = process.env): ClusterSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = clusterSettingsSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}=${JSON.stringify(env[String(issue.path[0])] ?? '')}: ${issue.message}`);
    throw new ClusterSettingsError(`invalid cluster configuration in the environment:\n${problems.join('\n')}`);
  }
  const s = parsed.data;
  const ports = [s.CLUSTER_UI_PORT, s.CLUSTER_POSTGRES_PORT];
  const serverPorts = Object.values(servicePorts(s.CLUSTER_FRONTEND_PORT)).flatMap((p) => Object.values(p));
  const clash = ports.find((p) => serverPorts.includes(p));
  if (clash !== undefined || s.CLUSTER_UI_PORT === s.CLUSTER_POSTGRES_PORT) {
    throw new ClusterSettingsError(`cluster ports overlap: CLUSTER_UI_PORT and CLUSTER_POSTGRES_PORT must differ from each other and from ${serverPorts.join(', ')} (derived from CLUSTER_FRONTEND_PORT)`);
  }
  return {
    frontendPort: s.CLUSTER_FRONTEND_PORT,
    uiPort: s.CLUSTER_UI_PORT,
    postgresPort: s.CLUSTER_POSTGRES_PORT,
    historyShards: s.CLUSTER_HISTORY_SHARDS,
    stateDir: resolve(PROJECT_ROOT, s.CLUSTER_STATE_DIR),
    logLevel: s.CLUSTER_LOG_LEVEL,
    namespace: s.TEMPORAL_NAMESPACE,
    address: `127.0.0.1:${s.CLUSTER_FRONTEND_PORT}`,
    uiUrl: `http://127.0.0.1:${s.CLUSTER_UI_PORT}`,
  };
}

/**
 * Every service's ports, one block from the frontend's: gRPC at +0..+6, the frontend's HTTP API at +10, membership
 * (ringpop) at +100..+106. Separate processes on one host need distinct ports; compose uses the same numbers.
 */
export function servicePorts(frontend: number): Record<ServerService, { grpc: number; membership: number; http?: number }> {
  return {
    frontend: { grpc: frontend, membership: frontend + 100, http: frontend + 10 },
    history: { grpc: frontend + 1, membership: frontend + 101 },
    matching: { grpc: frontend + 2, membership: frontend + 102 },
    worker: { grpc: frontend + 6, membership: frontend + 106 },
  };
}

export interface ServerEnvironmentPlace {
  postgresHost: string;
  postgresUser: string;
  postgresPassword: string;
  /** 127.0.0.1 locally; 0.0.0.0 in a container (its entrypoint then broadcasts the container's address). */
  bindIp: string;
  dynamicConfigFile: string;
}

/**
 * The server's configuration as the environment of its embedded config template (common/config/
 * config_template_embedded.yaml in the module: `temporal-server start` without --config renders it). The
 * temporalio/server image runs the same template, so compose and the local cluster configure the server identically.
 */
export function temporalServerEnvironment(settings: Pick<ClusterSettings, 'frontendPort' | 'postgresPort' | 'historyShards' | 'logLevel'>, place: ServerEnvironmentPlace): Record<string, string> {
  const ports = servicePorts(settings.frontendPort);
  return {
    DB: SQL_PLUGIN,
    DB_PORT: String(settings.postgresPort),
    POSTGRES_SEEDS: place.postgresHost,
    POSTGRES_USER: place.postgresUser,
    POSTGRES_PWD: place.postgresPassword,
    DBNAME: DATABASES[0].name,
    VISIBILITY_DBNAME: DATABASES[1].name,
    NUM_HISTORY_SHARDS: String(settings.historyShards),
    BIND_ON_IP: place.bindIp,
    FRONTEND_GRPC_PORT: String(ports.frontend.grpc),
    FRONTEND_HTTP_PORT: String(ports.frontend.http),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontend.membership),
    HISTORY_GRPC_PORT: String(ports.history.grpc),
    HISTORY_MEMBERSHIP_PORT: String(ports.history.membership),
    MATCHING_GRPC_PORT: String(ports.matching.grpc),
    MATCHING_MEMBERSHIP_PORT: String(ports.matching.membership),
    WORKER_GRPC_PORT: String(ports.worker.grpc),
    WORKER_MEMBERSHIP_PORT: String(ports.worker.membership),
    DYNAMIC_CONFIG_FILE_PATH: place.dynamicConfigFile,
    LOG_LEVEL: settings.logLevel,
  };
}

/**
 * temporal-sql-tool's steps, in order, for both databases: create it, set up the version table, apply every versioned
 * schema of `schemaRoot` (the module's schema/postgresql/v12, or /etc/temporal/schema/postgresql/v12 in the
 * admin-tools image). Connection settings go in SQL_PLUGIN/SQL_HOST/SQL_PORT/SQL_USER/SQL_PASSWORD.
 */
export function schemaSteps(schemaRoot: string): string[][] {
  return DATABASES.flatMap(({ name, schema }) => [
    ['--db', name, 'create-database'],
    ['--db', name, 'setup-schema', '-v', '0.0'],
    ['--db', name, 'update-schema', '-d', `${schemaRoot}/${schema}/versioned`],
  ]);
}

export function sqlToolEnvironment(settings: Pick<ClusterSettings, 'postgresPort'>, host: string, user: string, password: string): Record<string, string> {
  return { SQL_PLUGIN, SQL_HOST: host, SQL_PORT: String(settings.postgresPort), SQL_USER: user, SQL_PASSWORD: password };
}
