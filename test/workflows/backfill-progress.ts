// The backfill's progress query carries the planner's typed stale causes: while a month the plan found stale is being
// rebuilt, `stale` names it with its causes (the month the plan found current is not listed); once it is done, no
// month is listed.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { MonthPlan } from '../../core/datamart/plan.js';
import type { MonthEtlSummary } from '../../lib/month-etl.js';
import type { StaleCause } from '../../lib/stale-causes.js';
import type { Progress } from '../../lib/temporal.js';
import { backfillWorkflow, progressQuery } from '../../workflows/index.js';
import { CallLog, coordinationActivities, sharedTemporal, withMockedActivities, type MockActivities } from './mocks.js';

const temporal = sharedTemporal();
let env: TestWorkflowEnvironment;
before(async () => {
  env = await temporal;
});

// Months no other workflow test uses: the month children's ids (`month-<M>`) are shared on the server.
const CURRENT = '2031-05';
const STALE = '2031-06';
const causes: StaleCause[] = [
  { kind: 'source_changed', target: `gold/feature_store/${STALE}`, partition: `bronze/clickstream/${CURRENT}`, source: 'clickstream', month: CURRENT },
  { kind: 'missing', target: `gold/label_store/${STALE}`, partition: `gold/label_store/${STALE}` },
];

test('the progress query names each month still to rebuild with its typed causes, and none once it is done', async () => {
  const log = new CallLog();
  let releaseEtl!: () => void;
  const etlMayFinish = new Promise<void>((resolve) => (releaseEtl = resolve));
  let etlStarted!: () => void;
  const etlRunning = new Promise<void>((resolve) => (etlStarted = resolve));
  const counts = { attributes: 1, financials: 1, clickstream: 1, loan_daily: 1 };
  const activities = {
    ...coordinationActivities(env),
    inventoryMonths: async () => ({ present: [], missing: [] }),
    planMonths: async ({ months }: { months: string[] }): Promise<MonthPlan[]> => {
      log.record('planMonths', months);
      return months.map((month) =>
        month === STALE ? { month, current: false, reason: 'stale', causes } : { month, current: true, reason: 'current', causes: [] },
      );
    },
    readRegistry: async () => ({ production: null, history: [] }),
    runMonthEtl: async ({ month }: { month: string }): Promise<MonthEtlSummary> => {
      log.record('runMonthEtl', month);
      etlStarted();
      await etlMayFinish;
      return { month, rows: 4, bronzeRows: counts, silverRows: counts, quarantinedRows: { ...counts, clickstream: 0, attributes: 0, financials: 0, loan_daily: 0 }, featureRows: 0, labelRows: 0, defaults: 0, incomplete: [] };
    },
    pruneStaging: async () => ({ removed: 0 }),
    productionStaleness: async () => ({ production: null, stale: null, changed: [], reason: 'no production model' }),
  } as unknown as MockActivities;

  const { during, after } = await withMockedActivities(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(backfillWorkflow, {
      taskQueue,
      workflowId: `backfill-stale-progress-${taskQueue}`,
      args: [{ from: CURRENT, to: STALE, months: [CURRENT, STALE], sourceDir: '/sources' }],
    });
    await etlRunning;
    const during = await handle.query<Progress>(progressQuery);
    releaseEtl();
    await handle.result();
    return { during, after: await handle.query<Progress>(progressQuery) };
  });
  assert.deepEqual(log.inputs('runMonthEtl'), [STALE]);
  assert.deepEqual(during.stale, [{ month: STALE, causes }]);
  assert.equal(after.stale, undefined);
});
