// The real 15% sample of the CS611 data set, beside the project as ../shared (so in CI's fresh clone too).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/fixtures/cs611-sample');
