// Alerts for pipeline failures (a failed or incomplete backfill, month pipeline or training), posted to
// ALERT_WEBHOOK_URL with the retries of the monitoring alerts. ALERT_FORMAT=slack posts Slack's incoming-webhook
// shape ({text, blocks}); the default posts the JSON fields as they are.
import { postWithRetry, type AlertLogger } from './alerts.js';

export const ALERT_FORMATS = ['json', 'slack'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

export interface PipelineAlert {
  /** What failed: `backfill`, `month`, `training`; `model`: governance rolled back, or found a model to roll back or promote. */
  kind: 'backfill' | 'month' | 'training' | 'model';
  workflowId: string;
  /** One line: what happened. */
  summary: string;
  /** What to do about it. */
  action: string;
}

export function pipelineAlertPayload(alert: PipelineAlert, format: AlertFormat): unknown {
  if (format === 'json') return { source: 'credit-pipeline', ...alert };
  const text = `:rotating_light: credit-pipeline ${alert.kind} \`${alert.workflowId}\`: ${alert.summary}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `*Action:* ${alert.action}` }] },
    ],
  };
}

/** Logs the alert and posts it when a webhook is configured; never throws (an alert must not fail the pipeline). */
export async function sendPipelineAlert(
  alert: PipelineAlert,
  logger: AlertLogger,
  webhook: { url?: string; format: AlertFormat },
): Promise<{ posted: boolean }> {
  logger.error(`[ALERT] ${alert.kind} ${alert.workflowId}: ${alert.summary} (action: ${alert.action})`, { ...alert });
  if (!webhook.url) return { posted: false };
  const { posted } = await postWithRetry(webhook.url, pipelineAlertPayload(alert, webhook.format), logger);
  return { posted };
}
