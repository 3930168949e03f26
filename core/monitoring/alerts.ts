// Alerts: every finding is logged; with a webhook configured, they are also POSTed as one JSON document. A webhook that
// fails is retried a few times with backoff, then given up on: an alert channel being down must not stop monitoring.
import type { Finding } from '../../lib/contracts.js';
import type { Month } from '../../lib/months.js';

export interface AlertLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface WebhookOptions {
  url?: string;
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Delay before the second attempt; doubled for each next one. */
  initialDelayMs?: number;
  /** Time allowed to one request. */
  timeoutMs?: number;
}

export interface AlertPayload {
  source: 'credit-pipeline';
  asOf: Month;
  modelId: string;
  findings: Finding[];
}

export interface AlertResult {
  logged: number;
  posted: boolean;
  attempts: number;
  lastError?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** POSTs `payload` as JSON until a 2xx answer or the attempts run out; never throws. */
export async function postWithRetry(
  url: string,
  payload: unknown,
  logger: AlertLogger,
  { attempts = 4, initialDelayMs = 250, timeoutMs = 5000 }: Omit<WebhookOptions, 'url'> = {},
): Promise<{ posted: boolean; attempts: number; lastError?: string }> {
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined); // drain, so the connection is released
      if (response.ok) return { posted: true, attempts: attempt };
      lastError = `HTTP ${response.status} ${response.statusText}`;
    } catch (error) {
      lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    logger.warn(`alert webhook attempt ${attempt}/${attempts} failed: ${lastError}`);
    if (attempt < attempts) await sleep(initialDelayMs * 2 ** (attempt - 1));
  }
  logger.error(`alert webhook gave up after ${attempts} attempts: ${lastError}`);
  return { posted: false, attempts, lastError };
}

/** Logs each finding and posts them all to the webhook when one is configured and there is something to say. */
export async function sendAlerts(
  input: { asOf: Month; modelId: string; findings: Finding[] },
  logger: AlertLogger,
  webhook: WebhookOptions = {},
): Promise<AlertResult> {
  for (const finding of input.findings) {
    // the kind first: a data finding is for whoever owns the source, not for the model's owner
    const line = `[${finding.severity.toUpperCase()}] ${finding.kind} finding, model ${input.modelId} as of ${input.asOf}: ${finding.message}`;
    const meta = { modelId: input.modelId, asOf: input.asOf, ...finding };
    if (finding.severity === 'critical') logger.error(line, meta);
    else logger.warn(line, meta);
  }
  if (!webhook.url || input.findings.length === 0) return { logged: input.findings.length, posted: false, attempts: 0 };
  const payload: AlertPayload = { source: 'credit-pipeline', asOf: input.asOf, modelId: input.modelId, findings: input.findings };
  const result = await postWithRetry(webhook.url, payload, logger, webhook);
  return { logged: input.findings.length, ...result };
}
