// The container's healthcheck (Dockerfile HEALTHCHECK): exit 0 when the worker polls its task queue, else 1.
import { checkWorkerReady } from './readiness.js';

const { ready, reason } = await checkWorkerReady();
console.log(reason);
process.exit(ready ? 0 : 1);
