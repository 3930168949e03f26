// `npm run serve` (scripts/serve.sh) starts the scoring API with the process settings libuv and glibc read at start:
// one libuv pool thread per feature connection and glibc's larger malloc cache, unless the operator set their own.
// Read from the running server's /proc/<pid>/environ (Linux; the launcher execs node, so the pid is the server's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, stopProcess } from '../../workers/dev-server.js';

async function serverEnvironment(extra: Record<string, string>): Promise<Record<string, string>> {
  const work = mkdtempSync(join(tmpdir(), 'serve-launcher-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'UV_THREADPOOL_SIZE' && name !== 'GLIBC_TUNABLES'));
  const child = spawn('bash', ['scripts/serve.sh'], {
    cwd: PROJECT_ROOT,
    env: { ...inherited, DATAMART_DIR: join(work, 'datamart'), MODEL_BANK_DIR: join(work, 'model_bank'), SERVE_PORT: '0', SERVE_LOG_LEVEL: 'info', ...extra },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    // Up (not ready: the bank is empty) once it logs so.
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (data: Buffer) => {
        output += data.toString();
        if (output.includes('scoring API up')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the server exited with ${code} before it was up:\n${output}`)));
    });
    const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0').filter(Boolean);
    return Object.fromEntries(environ.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  } finally {
    await stopProcess(child);
    rmSync(work, { recursive: true, force: true });
  }
}

test('npm run serve: one libuv pool thread per feature connection and a larger glibc malloc cache, unless set', { skip: platform() !== 'linux' && 'reads /proc' }, async () => {
  const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts.serve, 'exec bash scripts/serve.sh');

  const defaults = await serverEnvironment({});
  assert.equal(defaults.UV_THREADPOOL_SIZE, '1');
  assert.equal(defaults.GLIBC_TUNABLES, 'glibc.malloc.tcache_count=1000');

  assert.equal((await serverEnvironment({ SERVE_FEATURE_CONNECTIONS: '3' })).UV_THREADPOOL_SIZE, '3');

  const operators = await serverEnvironment({ UV_THREADPOOL_SIZE: '6', GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
  assert.equal(operators.UV_THREADPOOL_SIZE, '6');
  assert.equal(operators.GLIBC_TUNABLES, 'glibc.malloc.arena_max=2');
});
