// Process configuration from the environment, validated once at start. Temporal connection settings
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key) are read by @temporalio/envconfig: see lib/temporal-connection.ts.
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const share = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);

/** The variables one by one (pick from here: a refined schema cannot be picked from). */
export const configFields = z.object({
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('credit-pipeline'),
  DATAMART_DIR: z.string().min(1).default('./datamart'),
  MODEL_BANK_DIR: z.string().min(1).default('./model_bank'),
  REPORTS_DIR: z.string().min(1).default('./reports'),
  TEMPORAL_DB_FILE: z.string().min(1).default('.temporal/dev.db'),
  MAX_QUARANTINE_SHARE: share(0.2),
  PSI_WARNING: z.coerce.number().finite().gt(0).default(0.1),
  PSI_CRITICAL: z.coerce.number().finite().gt(0).default(0.2),
  AUC_CRITICAL: share(0.7),
  PROMOTION_MIN_AUC: share(0.7),
  RETRAIN_COOLDOWN_DAYS: z.coerce.number().min(0).default(7),
  /** Train on the most recent N labelled application months only; 0 = all of them. */
  TRAINING_WINDOW_MONTHS: z.coerce.number().int().min(0).default(0),
  ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** `slack`: alert payloads in Slack's incoming-webhook shape; `json`: the alert's fields as they are. */
  ALERT_FORMAT: z.enum(['json', 'slack']).default('json'),
  /** How long a waiting client command keeps retrying while the Temporal server is unreachable (scripts/client.ts). */
  CLIENT_RECONNECT_SECONDS: z.coerce.number().int().positive().default(600),
  XGBOOST_LIBRARY: z.string().min(1).optional(),
  /**
   * Activity slots: two per core by default. An activity is mostly DuckDB, libxgboost or onnxruntime work (their
   * threads are sized to the cores) plus file I/O, so a second slot per core keeps the cores busy during the I/O.
   */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(2 * availableParallelism()),
  /** Threads of the worker's one DuckDB instance (default: the cores); read by core/duckdb.ts. */
  DUCKDB_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  /** Memory of the worker's one DuckDB instance before it spills (default 1GB); read by core/duckdb.ts. */
  DUCKDB_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 1GB or 512MiB').optional(),
  /** Tests only: `activityName:failures[,activityName:failures]`, the first attempts of those activities fail. */
  FAULT_INJECTION: z
    .string()
    .regex(/^(\w+:\d+)(,\w+:\d+)*$/, 'expected name:count[,name:count]')
    .optional(),
});

export const configSchema = configFields.refine((config) => config.PSI_WARNING < config.PSI_CRITICAL, {
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
