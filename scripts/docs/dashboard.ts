// `npm run docs:dashboard`: the README's dashboard image from the demo's own run. Run `npm run demo -- --exit` first
// (the default generated data and months); this copies reports/latest.png to docs/dashboard.png and says which model
// and month it shows, so the README never shows another run than the demo draws.
import { copyFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../lib/config.js';
import { readRegistry } from '../../core/models/registry.js';

const config = loadConfig();
const source = resolve(config.REPORTS_DIR, 'latest.png');
if (!existsSync(source)) {
  console.error(`${source} is missing: run npm run demo -- --exit first`);
  process.exit(1);
}
const destination = resolve('docs/dashboard.png');
copyFileSync(source, destination);
const registry = await readRegistry(config.MODEL_BANK_DIR);
console.log(`${destination} ← ${source} (production model ${registry.production ?? 'none'})`);
