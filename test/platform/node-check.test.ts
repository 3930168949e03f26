// scripts/setup's first step (scripts/lib/check-node.cjs): the Node on PATH is one of the lines package.json's
// `engines` names, else setup says so in one line and exits 1 before installing anything. The refusal is shown with
// the Node running this test against an `engines` that leaves it out, in a copy of setup and the check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../workers/dev-server.js';

const [major, minor] = process.versions.node.split('.').map(Number);
const PATH_WITH_THIS_NODE = `${dirname(process.execPath)}${delimiter}${process.env.PATH}`;

/** Runs setup (a copy, with `engines` as given) under the Node running this test. */
function setupWithEngines(engines: string): { status: number | null; stdout: string; stderr: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'credit-pipeline-node-check-'));
  mkdirSync(join(dir, 'scripts', 'lib'), { recursive: true });
  copyFileSync(join(PROJECT_ROOT, 'scripts', 'setup'), join(dir, 'scripts', 'setup'));
  copyFileSync(join(PROJECT_ROOT, 'scripts', 'lib', 'check-node.cjs'), join(dir, 'scripts', 'lib', 'check-node.cjs'));
  const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...packageJson, engines: { node: engines } }));
  const result = spawnSync('bash', [join(dir, 'scripts', 'setup')], { encoding: 'utf8', env: { ...process.env, PATH: PATH_WITH_THIS_NODE }, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, dir };
}

test(`setup refuses Node ${process.version} in one line when engines leaves its line out, and installs nothing`, () => {
  const { status, stdout, stderr, dir } = setupWithEngines(`^${major + 2}.0.0 || ^${major + 4}.0.0`);
  try {
    assert.equal(status, 1);
    assert.equal(stdout, '');
    assert.equal(stderr, `[setup] credit-pipeline needs Node ${major + 2} or ${major + 4} (found ${process.version}): see docs/prerequisites.md\n`);
    assert.deepEqual(readdirSync(dir).sort(), ['package.json', 'scripts'], 'nothing installed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`setup refuses Node ${process.version} when engines asks for a later minor of its line`, () => {
  const { status, stderr, dir } = setupWithEngines(`^${major - 2}.0.0 || ^${major}.${minor + 1}.0`);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(status, 1);
  assert.equal(stderr, `[setup] credit-pipeline needs Node ${major - 2} or ${major}.${minor + 1} or later (found ${process.version}): see docs/prerequisites.md\n`);
});

test(`the check accepts Node ${process.version} under the project's engines, with a warning only for a line past its end of life`, () => {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'lib', 'check-node.cjs')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  const warning = new RegExp(`^warning: Node ${major} reached its end of life on \\d{4}-\\d{2}-\\d{2}; credit-pipeline still runs on it, but prefer Node \\d+, the newest LTS\n$`);
  if (major === 20) assert.match(result.stdout, warning, 'Node 20 ended on 2026-04-30');
  else assert.ok(result.stdout === '' || warning.test(result.stdout), result.stdout);
});
