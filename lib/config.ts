// Process configuration from the environment, validated once at start. Temporal connection settings
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key) are read by @temporalio/envconfig: see lib/temporal-connection.ts.
import { z } from 'zod';

const number = (fallback: number) => z.coerce.number().finite().default(fallback);
const share = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);

export const configSchema = z.object({
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('credit-pipeline'),
  DATAMART_DIR: z.string().min(1).default('./datamart'),
  MODEL_BANK_DIR: z.string().min(1).default('./model_bank'),
  REPORTS_DIR: z.string().min(1).default('./reports'),
  TEMPORAL_DB_FILE: z.string().min(1).default('.temporal/dev.db'),
  MAX_QUARANTINE_SHARE: share(0.2),
  PSI_WARNING: number(0.1),
  PSI_CRITICAL: number(0.2),
  AUC_CRITICAL: share(0.7),
  PROMOTION_MIN_AUC: share(0.7),
  RETRAIN_COOLDOWN_DAYS: z.coerce.number().min(0).default(7),
  /** Train on the most recent N labelled application months only; 0 = all of them. */
  TRAINING_WINDOW_MONTHS: z.coerce.number().int().min(0).default(0),
  ALERT_WEBHOOK_URL: z.url().optional(),
  XGBOOST_LIBRARY: z.string().min(1).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(4),
  /** Online scoring API (npm run serve). */
  SERVE_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SERVE_HOST: z.union([z.ipv4(), z.ipv6(), z.literal('localhost'), z.hostname()]).default('127.0.0.1'),
  SERVE_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** Applications per feature query (micro-batch) and per request body. */
  SERVE_MAX_BATCH: z.coerce.number().int().min(1).max(1024).default(64),
  /** Applications waiting for a micro-batch beyond which requests get 503 (load shedding). */
  SERVE_MAX_QUEUE: z.coerce.number().int().min(1).default(2000),
  SERVE_REGISTRY_POLL_MS: z.coerce.number().int().min(50).default(1000),
  SERVE_FLUSH_ROWS: z.coerce.number().int().min(1).default(1000),
  SERVE_FLUSH_SECONDS: z.coerce.number().min(0.1).default(10),
  SERVE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  SERVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  /** Tests only: `activityName:failures[,activityName:failures]`, the first attempts of those activities fail. */
  FAULT_INJECTION: z
    .string()
    .regex(/^(\w+:\d+)(,\w+:\d+)*$/, 'expected name:count[,name:count]')
    .optional(),
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
