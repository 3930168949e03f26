// The demo's summary cells are wrapped, never cut: every word survives whole and in order, and a line is longer than
// the width only when it is one word that is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTable, wrap } from '../../scripts/format.js';

test('wrap keeps every word whole and in order, within the width', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9().,:'-]{1,30}$/);
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), fc.integer({ min: 5, max: 80 }), (words, width) => {
      const lines = wrap(words.join(' '), width).split('\n');
      assert.deepEqual(lines.join(' ').split(' '), words);
      for (const line of lines) assert.ok(line.length <= width || !line.includes(' '), `${JSON.stringify(line)} over ${width}`);
    }),
  );
});

test('a wrapped cell spans lines in its column', () => {
  const table = formatTable(['stage', 'result'], [['training', wrap('kept as candidate (the gate needs an AUC of 0.70 on months after training)', 30)], ['next', 'ok']]);
  assert.equal(
    table,
    [
      'stage     result',
      '--------  ------------------------------',
      'training  kept as candidate (the gate',
      '          needs an AUC of 0.70 on months',
      '          after training)',
      'next      ok',
    ].join('\n'),
  );
});
