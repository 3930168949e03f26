// The reason-code catalogue covers every feature a model can have, and docs/reason-codes.md is what the script renders
// from it now: an unknown feature fails here (the build), never an application.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FEATURE_COLUMNS } from '../../core/etl/feature-store.js';
import { featuresWithoutStatement, REASON_CATALOGUE, reasonStatement } from '../../lib/reason-codes.js';
import { REASON_CODES_DOC, renderReasonCodesDoc } from '../../scripts/docs/reason-codes.js';

test('every feature-store feature (so every model feature) has an adverse-action statement', () => {
  assert.deepEqual(featuresWithoutStatement(FEATURE_COLUMNS.map((column) => column.name)), []);
  assert.equal(reasonStatement('Num_of_Delayed_Payment'), 'Number of delayed payments');
  for (const [feature, entry] of Object.entries(REASON_CATALOGUE)) {
    assert.ok(entry.statement.trim().length > 3 && entry.meaning.trim().length > 3, feature);
    assert.notEqual(entry.statement, feature, `${feature}: a statement is wording, not the column name`);
  }
});

test('an unknown feature is named by the check', () => {
  assert.deepEqual(featuresWithoutStatement(['Num_of_Delayed_Payment', 'Shoe_Size']), ['Shoe_Size']);
});

test('the committed docs/reason-codes.md is the rendered one (run `npm run docs:reason-codes` after changing the catalogue)', () => {
  assert.equal(readFileSync(REASON_CODES_DOC, 'utf8'), renderReasonCodesDoc());
  for (const { name } of FEATURE_COLUMNS) assert.ok(renderReasonCodesDoc().includes(`| \`${name}\` |`), name);
});
