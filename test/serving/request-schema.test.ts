// The request schema's finite-number check (core/serving/request.ts) against lib/column-ranges.ts's own reading of a
// field: a number-shaped value is refused, naming its field, exactly when it would be Infinity, whatever its length
// (the check skips values too short to overflow, so the lengths around 309 digits are the ones that matter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applicationSchema } from '../../core/serving/request.js';
import { numberShaped, NUMERIC_COLUMNS } from '../../lib/column-ranges.js';
import { REQUIRED_COLUMNS } from '../../core/etl/source-columns.js';
import type { Source } from '../../lib/layout.js';

const recordOf = (source: Source, values: Record<string, string>) =>
  Object.fromEntries(REQUIRED_COLUMNS[source].map((column) => [column, values[column] ?? null]));

test('a numeric field is refused, naming it, exactly when its number is not finite (property, lengths around 309 digits)', () => {
  const numeric = (['financials', 'clickstream', 'attributes'] as const).flatMap((source) => Object.keys(NUMERIC_COLUMNS[source]).map((column) => ({ source, column })));
  const loan = recordOf('loan_daily', { snapshot_date: '2024-06-01' });
  const text = fc.oneof(
    fc.tuple(fc.constantFrom('', '-', ' '), fc.integer({ min: 300, max: 320 }), fc.constantFrom('', '.5', '_', ' ')).map(([sign, digits, tail]) => `${sign}${'9'.repeat(digits)}${tail}`),
    fc.tuple(fc.integer({ min: 300, max: 320 }), fc.constantFrom('1', '17976931348623157', '17976931348623159')).map(([digits, head]) => head.padEnd(digits, '0')),
    fc.stringMatching(/^0{0,400}[0-9]{1,3}$/),
  );
  fc.assert(
    fc.property(fc.constantFrom(...numeric), text, ({ source, column }, raw) => {
      const application = {
        loan,
        attributes: source === 'attributes' ? recordOf('attributes', { [column]: raw }) : null,
        financials: source === 'financials' ? recordOf('financials', { [column]: raw }) : null,
        clickstream: source === 'clickstream' ? [recordOf('clickstream', { [column]: raw })] : [],
      };
      const parsed = applicationSchema.safeParse(application);
      const shaped = numberShaped(raw, NUMERIC_COLUMNS[source][column].kind);
      const overflowing = raw.length <= 1000 && shaped !== null && !Number.isFinite(shaped);
      if (raw.length > 1000) return; // refused as too long, a check of its own
      assert.equal(parsed.success, !overflowing, `${source}.${column} ${raw.length} chars`);
      if (!parsed.success) {
        const path = parsed.error.issues[0].path.join('.');
        assert.equal(path, source === 'clickstream' ? `clickstream.0.${column}` : `${source}.${column}`);
        assert.match(parsed.error.issues[0].message, /not a finite number/);
      }
    }),
    { numRuns: 2000 },
  );
  // Both sides of the boundary, explicitly: the largest double's 309 digits pass, one more in the leading digit fails.
  const at = (value: string) => applicationSchema.safeParse({ loan, attributes: null, financials: recordOf('financials', { Annual_Income: value }), clickstream: [] }).success;
  assert.equal(at('1'.padEnd(309, '0')), true);
  assert.equal(at('2'.padEnd(309, '0')), false);
  assert.equal(at('9'.repeat(308)), true);
});
