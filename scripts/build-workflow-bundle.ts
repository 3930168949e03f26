// `npm run build`'s second step: the workflow bundle the image's worker loads by path (workers/worker.ts,
// PREBUILT_WORKFLOW_BUNDLE), built here once instead of by webpack at every start.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWorkflowBundle } from '../workers/workflow-bundle.js';

const outFile = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
await writeWorkflowBundle(fileURLToPath(new URL('../workflows/index.ts', import.meta.url)), outFile);
console.log(`workflow bundle written to ${outFile}`);
