// docs/model-governance.md is rendered from the configuration defaults: the committed file must be what the script
// renders now, so a changed default (or a new decision action) cannot leave the SOP quoting an old number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GOVERNANCE_DOC, renderGovernanceDoc } from '../../scripts/docs/governance.js';
import { configSchema } from '../../lib/config.js';
import { GOVERNANCE_ACTIONS } from '../../lib/contracts.js';

test('the committed governance SOP is the rendered one (run `npm run docs:governance` after changing a default)', () => {
  assert.equal(readFileSync(GOVERNANCE_DOC, 'utf8'), renderGovernanceDoc());
});

test('the SOP quotes the configuration, not constants: other defaults give other numbers', () => {
  const defaults = configSchema.parse({});
  const other = renderGovernanceDoc({ ...defaults, PROMOTION_MIN_AUC: 0.83, RETRAIN_COOLDOWN_DAYS: 11, PROMOTION_NON_INFERIORITY_MARGIN: 0.02, AUTO_ROLLBACK: false });
  assert.match(other, /non-inferior \(interval low above −0\.02\)/);
  assert.match(other, /\| `AUTO_ROLLBACK` \| false \|/);
  assert.match(other, /\| `PROMOTION_MIN_AUC` \| 0\.83 \|/);
  assert.match(other, /no retrain started within the last 11 days/);
  assert.match(renderGovernanceDoc(), new RegExp(`\\| \`PROMOTION_MIN_AUC\` \\| ${defaults.PROMOTION_MIN_AUC} \\|`));
  for (const action of GOVERNANCE_ACTIONS) assert.ok(renderGovernanceDoc().includes(`| \`${action}\` |`), action);
});
