// The numeric imputation value is the training column's median, found by selection: the same value a sort gives,
// for odd and even lengths, ties, negative values and signed zeros, small and large columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitPreprocessor } from '../../core/features/preprocessor.js';

function sortedMedian(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

test('the imputation value is the median a sort gives, missing values left out', async () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const draws = [
    () => Math.floor(random() * 5) - 2, // ties around zero
    () => (random() < 0.5 ? -0 : 0) + Math.floor(random() * 2), // signed zeros
    () => random() * 100 - 50,
  ];
  for (let column = 0; column < 600; column++) {
    const rows = column < 6 ? 20_000 + column : Math.floor(random() * 40) + 1;
    const draw = draws[column % draws.length];
    const values = Array.from({ length: rows }, draw);
    const withMissing = [...values, null, Number.NaN];
    const preprocessor = await fitPreprocessor([{ name: 'x', kind: 'numeric' }], { rows: withMissing.length, values: { x: withMissing } });
    const feature = preprocessor.features[0];
    assert.equal(feature.kind, 'numeric');
    if (feature.kind === 'numeric') assert.ok(Object.is(feature.impute, sortedMedian(values)), `column ${column} of ${rows} rows: ${feature.impute} vs ${sortedMedian(values)}`);
  }
});
