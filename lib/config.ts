// Process configuration from the environment, validated once at start. Temporal connection settings
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key) are read by @temporalio/envconfig: see workers/connection.ts.
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './temporal.js';

/** MIN_SOURCE_VOLUME_SHARE's default, for the plain functions tests and scripts call without a configuration. */
export const DEFAULT_MIN_SOURCE_VOLUME_SHARE = 0.5;

const share = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);
/** true/false (also 1/0, yes/no) — not z.coerce.boolean, which reads "false" as true. */
const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
    .transform((value) => value === true || value === 'true' || value === '1' || value === 'yes')
    .default(fallback);

/** Every variable on its own (pick from it for a part of the configuration); configSchema adds the cross-checks. */
export const configVariablesSchema = z.object({
  /** The task queue workers poll and clients start workflows on. */
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** Root of the datamart: bronze, silver, quarantine and gold, Hive-partitioned Parquet. */
  DATAMART_DIR: z.string().min(1).default('./datamart'),
  /** Root of the model bank: one folder per model and registry.json. */
  MODEL_BANK_DIR: z.string().min(1).default('./model_bank'),
  /** Where monitoring writes its dashboards (monitoring-<asOf>.png|html, latest.png|html). */
  REPORTS_DIR: z.string().min(1).default('./reports'),
  /** Where the local dev server (`npm run server`, the demo) persists its state. */
  TEMPORAL_DB_FILE: z.string().min(1).default('.temporal/dev.db'),
  /** Share of a month's rows of one source that may be quarantined before the month fails (DataQualityError). */
  MAX_QUARANTINE_SHARE: share(0.2),
  /**
   * Completeness: a source month with fewer rows than this share of the median of its previous three months (or of
   * the rows ingested for it before) is incomplete, and no model trains on it unless an operator accepts the gap.
   */
  MIN_SOURCE_VOLUME_SHARE: share(DEFAULT_MIN_SOURCE_VOLUME_SHARE),
  /** Score PSI of a month at or above this is a drift warning (must be below PSI_CRITICAL). */
  PSI_WARNING: z.coerce.number().finite().gt(0).default(0.1),
  /** Score PSI of a month at or above this is critical: a retrain is requested (within the cooldown rules). */
  PSI_CRITICAL: z.coerce.number().finite().gt(0).default(0.2),
  /** AUC of a mature out-of-sample month below this is critical: a retrain is requested. */
  AUC_CRITICAL: share(0.7),
  /** Promotion gate: the minimum AUC a candidate must reach on its out-of-time months. */
  PROMOTION_MIN_AUC: share(0.7),
  /**
   * A candidate replaces production only when the lower end of the 95% interval of (candidate AUC − production AUC),
   * paired on months out of sample for both (DeLong), lies above −this margin.
   */
  PROMOTION_NON_INFERIORITY_MARGIN: z.coerce.number().min(0).max(0.5).default(0.01),
  /** Registered candidates scored in shadow beside production each month (the newest first). */
  MAX_CHALLENGERS: z.coerce.number().int().min(0).max(10).default(2),
  /** Governance judges a challenger once this many mature months are out of sample for it and production. */
  CHALLENGER_MIN_MONTHS: z.coerce.number().int().min(1).default(2),
  /** true: governance promotes a challenger that wins on shadow months; false: it proposes (logs and alerts) only. */
  AUTO_PROMOTE_CHALLENGER: flag(false),
  /** true: governance rolls back when production is significantly worse than the previous model on the same mature rows. */
  AUTO_ROLLBACK: flag(true),
  /** Automatic retraining at most once per this many days (an operator's `retrain` bypasses it, logged as such). */
  RETRAIN_COOLDOWN_DAYS: z.coerce.number().min(0).default(7),
  /** The monthly retrain policy trains once this many labelled application months follow the production window. */
  RETRAIN_MIN_NEW_LABELLED_MONTHS: z.coerce.number().int().min(1).default(2),
  /** Data findings: a source's coverage this far below its training baseline (absolute share) is a warning … */
  DATA_COVERAGE_DROP_WARNING: share(0.1),
  /** … and this far, critical (alerted as such; data findings never retrain). */
  DATA_COVERAGE_DROP_CRITICAL: share(0.5),
  /** Data findings: a feature's NULL share this far above its training baseline is a warning. */
  DATA_NULL_RATE_JUMP: share(0.2),
  /** Data findings: a source month with fewer rows than (1 − this) × the median of the 3 months before is a warning. */
  DATA_VOLUME_DROP: share(0.5),
  /** Training-serving skew: online-vs-batch score PSI of a month at or above this is a warning (alerted, never a retrain). */
  ONLINE_PSI_WARNING: z.coerce.number().finite().gt(0).default(0.1),
  /** … judged only on a month with at least this many online scores (the PSI of n sampled scores is ≈ 9 / n by chance). */
  ONLINE_PSI_MIN_ROWS: z.coerce.number().int().min(1).default(200),
  /** Monitoring as of a month more than this many months after the newest month with source rows: a freshness data finding. */
  DATA_FRESHNESS_GRACE_MONTHS: z.coerce.number().int().min(0).default(1),
  /** Calibration: a Hosmer–Lemeshow p-value below this on the latest mature out-of-sample month is a calibration finding. */
  CALIBRATION_ALPHA: z.coerce.number().gt(0).lt(1).default(0.01),
  /** Estimated performance: a month whose whole 90% AUC band lies below the model's OOT AUC minus this is a significant drop. */
  ESTIMATED_AUC_MARGIN: share(0.05),
  /** What a significant estimated drop does: `alert` (default), or `retrain` like a critical realized AUC would. */
  ESTIMATED_PERFORMANCE_ACTION: z.enum(['alert', 'retrain']).default('alert'),
  /** Train on the most recent N labelled application months only; 0 = all of them. */
  TRAINING_WINDOW_MONTHS: z.coerce.number().int().min(0).default(0),
  /** http(s) URL: warnings, critical findings and failed backfills, month pipelines and trainings are POSTed here. */
  ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** `slack`: alert payloads in Slack's incoming-webhook shape; `json`: the alert's fields as they are. */
  ALERT_FORMAT: z.enum(['json', 'slack']).default('json'),
  /** How long a waiting client command keeps retrying while the Temporal server is unreachable (scripts/client.ts). */
  CLIENT_RECONNECT_SECONDS: z.coerce.number().int().positive().default(600),
  /** Path of libxgboost.so / .dylib when the loader does not find it (macOS: Homebrew's). */
  XGBOOST_LIBRARY: z.string().min(1).optional(),
  /**
   * Activity slots: two per core by default. An activity is mostly DuckDB, libxgboost or onnxruntime work (their
   * threads are sized to the cores) plus file I/O, so a second slot per core keeps the cores busy during the I/O.
   * Unset here (lib/ knows no cores): workers/worker.ts fills in the default.
   */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().optional(),
  /** Threads of the worker's one DuckDB instance (default: the cores); read by core/duckdb.ts. */
  DUCKDB_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  /** Memory of the worker's one DuckDB instance before it spills (default 1GB); read by core/duckdb.ts. */
  DUCKDB_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 1GB or 512MiB').optional(),
  /** The worker's Prometheus endpoint (Temporal SDK metrics and the pipeline's own); unset: no endpoint. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Where the worker's metrics endpoint listens: loopback by default, 0.0.0.0 in the container image. */
  WORKER_METRICS_HOST: z.union([z.ipv4(), z.ipv6(), z.literal('localhost')]).default('127.0.0.1'),
  /** The worker's log level (the SDK's levels). */
  WORKER_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** `json`: one JSON object per line (what log collectors read); `text`: the SDK's plain lines. */
  WORKER_LOG_FORMAT: z.enum(['json', 'text']).default('json'),
  /** OpenTelemetry traces go to this OTLP/HTTP collector (e.g. http://otel-collector:4318); unset: no traces exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** Scoring API (`npm run serve`): the port it listens on. */
  SERVE_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Scoring API: where it listens (an IP address or host name; loopback by default). */
  SERVE_HOST: z.union([z.ipv4(), z.ipv6(), z.literal('localhost'), z.hostname()]).default('127.0.0.1'),
  /**
   * Hashed API keys of the scoring API (`sha256:<hex>`, comma-separated; npm run serve-key makes one). Required when
   * SERVE_HOST is beyond loopback (the API refuses to start without); on loopback, when set, /v1 routes require a key.
   */
  SERVE_API_KEYS: z
    .string()
    .regex(/^\s*sha256:[0-9a-fA-F]{64}\s*(,\s*sha256:[0-9a-fA-F]{64}\s*)*$/, 'expected sha256:<64 hex digits> entries, comma-separated: hashed keys, never keys (npm run serve-key)')
    .optional(),
  /** Scoring API: larger request bodies get 400. */
  SERVE_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** Applications per feature query (micro-batch) and per request body. */
  SERVE_MAX_BATCH: z.coerce.number().int().min(1).max(1024).default(64),
  /** Applications waiting for a micro-batch beyond which requests get 503 (load shedding). */
  SERVE_MAX_QUEUE: z.coerce.number().int().min(1).default(2000),
  /**
   * Micro-batches whose features are computed at once, each on a DuckDB connection (and a thread) of its own. One
   * already keeps two cores busy (DuckDB beside the event loop); more pays on more cores.
   */
  SERVE_FEATURE_CONNECTIONS: z.coerce.number().int().min(1).max(64).default(1),
  /** Threads of the feature store's DuckDB, shared by its connections (online-features.ts: what a second one does). */
  SERVE_FEATURE_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * Threads of the DuckDB that computes the features of a request alone on the server; the same value as
   * SERVE_FEATURE_THREADS puts every micro-batch on one DuckDB (online-features.ts: what two threads do).
   */
  SERVE_LONE_REQUEST_THREADS: z.coerce.number().int().min(1).max(64).default(2),
  /** Scoring API: how often registry.json is read to follow promotions and rollbacks. */
  SERVE_REGISTRY_POLL_MS: z.coerce.number().int().min(50).default(1000),
  /** Scoring API: online scores are written to gold/predictions_online every this many rows … */
  SERVE_FLUSH_ROWS: z.coerce.number().int().min(1).default(1000),
  /** … or every this many seconds, and at shutdown. */
  SERVE_FLUSH_SECONDS: z.coerce.number().min(0.1).default(10),
  /** Scoring API: load shedding (503) when the event loop lags beyond this. */
  SERVE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  /** Scoring API: the log level (request bodies are never logged). */
  SERVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  /** Operator's console (`npm run console`, docs/console.md): the port it listens on. */
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  /** Operator's console: where it listens; anything but a loopback address requires CONSOLE_TOKEN (it can promote models). */
  CONSOLE_HOST: z.union([z.ipv4(), z.ipv6(), z.literal('localhost'), z.hostname()]).default('127.0.0.1'),
  /** Operator's console: the operators' shared secret, asked once per browser (a cookie) or sent as `Authorization: Bearer`. */
  CONSOLE_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  /** The Temporal Web UI the console links workflows to (the dev server's is at its frontend port + 1000). */
  TEMPORAL_UI_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).default('http://127.0.0.1:8233'),
  /** Tests only: `activityName:failures[,activityName:failures]`, the first attempts of those activities fail. */
  FAULT_INJECTION: z
    .string()
    .regex(/^(\w+:\d+)(,\w+:\d+)*$/, 'expected name:count[,name:count]')
    .optional(),
});

export const configSchema = configVariablesSchema.refine((config) => config.PSI_WARNING < config.PSI_CRITICAL, {
  path: ['PSI_WARNING'],
  message: 'must be below PSI_CRITICAL (0 < warning < critical)',
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Reads and validates the environment; a bad value throws a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = issue.path.join('.');
      return `  ${variable}=${JSON.stringify(env[variable] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration in the environment:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
