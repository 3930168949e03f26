// `npm run cluster -- up|down|status`: Temporal on PostgreSQL as separate local processes (frontend, history,
// matching, worker), its Web UI, and optionally a fleet of pipeline workers; see scripts/cluster/lifecycle.ts.
// Ports and the state folder: CLUSTER_* variables (scripts/cluster/settings.ts).
import { z } from 'zod';
import { parseCommandLine } from './cli.js';
import { loadClusterSettings } from './cluster/settings.js';
import { clusterDown, clusterStatus, clusterUp } from './cluster/lifecycle.js';
import { ensureNamespace } from './cluster/services.js';
import { formatTable } from './format.js';

const ACTIONS = ['up', 'down', 'status', 'namespace'] as const;
const DESCRIPTION = {
  up: 'Build what is missing (once), start PostgreSQL, the Temporal services, the namespace and search attributes, and the Web UI; restart whatever died.',
  down: 'Stop every process of the cluster (workers, UI, services, PostgreSQL); the data stays for the next up.',
  status: 'Each process, its pid and port, and the cluster health.',
  namespace: 'namespace create NAME: a namespace for one portfolio (30-day retention, the search attributes of the contract); its workers and clients then run with TEMPORAL_NAMESPACE=NAME.',
};

/** Temporal's namespace names: a letter or digit first, then letters, digits, '-', '_' and '.'. */
const namespaceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/, 'a namespace name: letters, digits, - _ . (at least 2 characters)');

async function main(): Promise<number> {
  const action = process.argv[2] as (typeof ACTIONS)[number];
  if (!ACTIONS.includes(action)) {
    console.error(`usage: npm run cluster -- ${ACTIONS.join('|')} [options]   (--help after the action for its options)`);
    return 2;
  }
  const log = (line: string) => console.log(line);
  if (action === 'namespace') {
    const [verb, name, ...rest] = process.argv.slice(3);
    const parsedName = namespaceName.safeParse(name);
    if (verb !== 'create' || !parsedName.success || rest.length > 0) {
      console.error(`usage: npm run cluster -- namespace create NAME${parsedName.success || name === undefined ? '' : `\n  NAME: ${parsedName.error.issues[0]?.message}`}`);
      return 2;
    }
    const settings = loadClusterSettings();
    await ensureNamespace(settings, log, parsedName.data);
    console.log(`namespace ${parsedName.data} ready on ${settings.address}: TEMPORAL_NAMESPACE=${parsedName.data} TEMPORAL_ADDRESS=${settings.address} npm run worker`);
    return 0;
  }
  const options = parseCommandLine(`cluster -- ${action}`, DESCRIPTION[action], action === 'up'
    ? {
        workers: { type: 'string' as const, description: 'pipeline worker processes to start against the cluster (default 0)', schema: z.coerce.number().int().min(0).max(32).default(0) },
        namespace: { type: 'string' as const, description: 'the namespace to create and bind the workers to (default TEMPORAL_NAMESPACE, else default)', schema: namespaceName.optional() },
      }
    : {}, process.argv.slice(3)) as { workers?: number; namespace?: string };
  const settings = { ...loadClusterSettings(), ...(options.namespace ? { namespace: options.namespace } : {}) };

  if (action === 'up') {
    const t = Date.now();
    await clusterUp(settings, log, { workers: options.workers ?? 0 });
    console.log(`\ncluster up in ${((Date.now() - t) / 1000).toFixed(1)} s: TEMPORAL_ADDRESS=${settings.address} (namespace ${settings.namespace}), Web UI ${settings.uiUrl}`);
    console.log(`state, pid files and logs in ${settings.stateDir}`);
    console.log(`workers: TEMPORAL_ADDRESS=${settings.address} npm run worker   (once per worker process)`);
    return 0;
  }
  if (action === 'down') {
    await clusterDown(settings, log);
    console.log('cluster down');
    return 0;
  }
  const status = await clusterStatus(settings);
  console.log(formatTable(['process', 'pid', 'state'], status.processes.map((p) => [p.name, p.pid ? String(p.pid) : '—', p.pid ? p.detail : 'not running'])));
  console.log(`\ncluster health on ${settings.address}: ${status.health}`);
  return status.health === 'SERVING' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
