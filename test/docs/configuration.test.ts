// docs/configuration.md is rendered from the configuration schemas: the committed file must be what the script renders
// now, and every variable must carry a doc comment, so a new or changed setting cannot leave the page behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIGURATION_DOC, acceptedValues, renderConfigurationDoc, undocumentedVariables } from '../../scripts/docs/configuration.js';
import { configVariablesSchema } from '../../lib/config.js';

test('every configuration variable has a doc comment', () => {
  assert.deepEqual(undocumentedVariables(), []);
});

test('the committed configuration page is the rendered one (run `npm run docs:configuration` after changing a setting)', () => {
  assert.equal(readFileSync(CONFIGURATION_DOC, 'utf8'), renderConfigurationDoc());
});

test('the page lists every variable with its default and range from the schema', () => {
  const page = renderConfigurationDoc();
  for (const variable of Object.keys(configVariablesSchema.shape)) assert.match(page, new RegExp(`^\\| \`${variable}\` \\|`, 'm'), variable);
  assert.match(page, /^\| `MAX_QUARANTINE_SHARE` \| `0\.2` \| number from 0 to 1 \| /m);
  assert.equal(acceptedValues({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), 'integer ≥ 1');
  assert.equal(acceptedValues({ type: 'string', enum: ['json', 'slack'] }), '`json`, `slack`');
});
