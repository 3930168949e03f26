// The persistence and visibility schemas, set up and upgraded by temporal-sql-tool from the server module's
// schema/postgresql/v12: the same steps the compose file's schema container runs. Every step is safe to repeat.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { POSTGRES_USER, schemaSteps, sqlToolEnvironment, type ClusterSettings } from './settings.js';
import type { ServerBinaries } from './binaries.js';

const run = promisify(execFile);

export async function setUpSchemas(settings: ClusterSettings, binaries: ServerBinaries, password: string): Promise<void> {
  const env = { ...process.env, ...sqlToolEnvironment(settings, '127.0.0.1', POSTGRES_USER, password) };
  for (const step of schemaSteps(binaries.schemaDir)) {
    try {
      await run(binaries.sqlTool, step, { env, maxBuffer: 16 << 20, timeout: 300_000 });
    } catch (error) {
      const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
      // A database created by an earlier `up`: the only failure that is not one.
      if (step.includes('create-database') && /already exists/.test(output)) continue;
      throw new Error(`temporal-sql-tool ${step.join(' ')} failed:\n${output.split('\n').slice(-15).join('\n')}`, { cause: error });
    }
  }
}
