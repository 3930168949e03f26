// `npm run explain -- --loan-id ID [--model ID] [--json]`: one application's score, risk band and reasons (SPEC §4c),
// from gold/explanations when its month was scored by the model, computed from the feature store otherwise. Reads the
// datamart and the model bank of the configuration (DATAMART_DIR, MODEL_BANK_DIR); no Temporal server needed.
import { z } from 'zod';
import { loadConfig } from '../lib/config.js';
import { explainApplication, type ApplicationExplanation } from '../core/scoring/application-explanation.js';
import { releaseScoringSessions } from '../core/scoring/model-loader.js';
import { parseCommandLine } from './cli.js';
import { printJson, runCommand } from './client.js';
import { formatTable } from './format.js';

const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(4)}`;

export function formatExplanation(explained: ApplicationExplanation): string {
  const outcome = explained.label
    ? `observed: ${explained.label.label === 1 ? 'defaulted' : 'did not default'} (${explained.label.dpd} days past due at MOB 6, ${explained.label.label_month})`
    : 'observed: no label yet (the loan has not reached MOB 6 in the label store)';
  const margin = explained.bias + Object.values(explained.contributions).reduce((a, b) => a + b, 0);
  const reasons = explained.reasons.length
    ? formatTable(
        ['#', 'reason', 'contribution (log-odds)', 'feature'],
        explained.reasons.map((reason, index) => [index + 1, reason.statement, signed(reason.contribution), reason.feature]),
      )
    : 'no feature pushes this application\'s risk above the model\'s average';
  return [
    `loan ${explained.loan_id}, applied ${explained.application_month}, model ${explained.model_id} (${explained.source === 'gold' ? 'from gold/explanations' : 'computed now: no explanations partition for this month and model'})`,
    `default probability ${explained.default_probability.toFixed(4)}, risk band ${explained.risk_band}, predicted default ${explained.predicted_default} (threshold ${explained.threshold.toFixed(4)})`,
    outcome,
    '',
    'principal reasons (features pushing the risk of default up most):',
    reasons,
    '',
    `log-odds: baseline ${explained.bias.toFixed(4)} ${signed(margin - explained.bias)} from this application's features = ${margin.toFixed(4)} (probability ${(1 / (1 + Math.exp(-margin))).toFixed(4)})`,
  ].join('\n');
}

runCommand(async () => {
  const options = parseCommandLine('explain', 'The score, risk band and reason codes of one loan application.', {
    'loan-id': { type: 'string', description: 'the loan id (feature store loan_id)', schema: z.string().min(1) },
    model: { type: 'string', description: 'model id (default: the production model of registry.json)' },
    json: { type: 'boolean', description: 'print JSON (every contribution) instead of text' },
  });
  const config = loadConfig();
  try {
    const explained = await explainApplication({
      datamartDir: config.DATAMART_DIR,
      modelBankDir: config.MODEL_BANK_DIR,
      loanId: options['loan-id'],
      modelId: options.model,
    });
    if (options.json) printJson(explained);
    else console.log(formatExplanation(explained));
  } finally {
    await releaseScoringSessions();
  }
});
