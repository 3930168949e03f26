// The configuration of a long-running process (the worker, the scoring API, the console): read once at start; a bad
// value ends the process with the message naming the variable and exit status 2, not a stack trace.
import { ConfigError, loadConfig, type Config } from '../lib/config.js';

export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
