// An operator's decision needs a reason: `npm run promote` and `npm run rollback` without --reason exit 2 before they
// reach Temporal, naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function npmRun(...args: string[]) {
  // An address nothing listens on: a command that got past its options would fail otherwise (exit 1), not with 2.
  return spawnSync('npm', ['run', '--silent', ...args], { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', CLIENT_RECONNECT_SECONDS: '1' } });
}

test('npm run promote -- --model X without --reason exits 2 naming --reason', () => {
  const run = npmRun('promote', '--', '--model', 'gbtree-2024-06-abc');
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /--reason \(missing\)/);
  const blank = npmRun('promote', '--', '--model', 'gbtree-2024-06-abc', '--reason', '  ');
  assert.equal(blank.status, 2, blank.stderr);
});

test('npm run rollback without --reason exits 2 naming --reason', () => {
  const run = npmRun('rollback');
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /--reason \(missing\)/);
});
