// `npm run bench -- --scale S`: generated data at S × 12,500 customers through phase 1, phase 2 and monitoring on a
// private dev server and a worker child process; prints the figures and writes bench/results/<date>-<scale>.json.
// `npm run bench -- --serve`: the online scoring API under load instead (bench/results/<date>-serve.json).
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { benchOptionsSchema } from '../tools/bench/options.js';
import { runBench, type BenchResult } from '../tools/bench/run.js';
import { DEFAULT_MONTHS_IN_FLIGHT } from '../lib/workflow-inputs.js';
import { causes } from './lib/causes.js';
import { formatServeBenchRun, runServeBench, serveBenchOptionsSchema } from '../tools/bench/serve.js';
import { parseCommandLine } from './cli.js';
import { formatTable } from './format.js';

const raw = parseCommandLine('bench', 'Benchmark the whole pipeline on generated data (its own dev server and worker; all stopped at the end).', {
  scale: { type: 'string', description: 'data size: S × 12,500 customers over 25 months (required; fractions allowed, e.g. 0.1)' },
  source: { type: 'string', description: 'folder of the four CSVs to run on instead of generated data, its customers replicated under new ids to reach the scale' },
  from: { type: 'string', description: 'first month of phase 1 and 2 (default 2023-01)' },
  to: { type: 'string', description: 'last month (default 2024-12)' },
  seed: { type: 'string', description: 'generator seed (default 42)' },
  parallelism: { type: 'string', description: `months in flight in the backfill and history workflows (default ${DEFAULT_MONTHS_IN_FLIGHT})` },
  concurrency: { type: 'string', description: 'worker activity slots, WORKER_MAX_CONCURRENT_ACTIVITIES (default: the cores)' },
  out: { type: 'string', description: 'folder of the result JSON (default bench/results)' },
  work: { type: 'string', description: 'scratch folder for data, datamart and server db (default bench/tmp)' },
  keep: { type: 'boolean', description: 'keep the scratch folder afterwards' },
  'explain-cost': { type: 'boolean', schema: z.boolean().optional(), description: 'also measure what explanations add to phase 2 per model family (default: on up to scale 1)' },
  serve: { type: 'boolean', description: 'instead: the online scoring API (npm run serve) under autocannon, single applications on loopback' },
  duration: { type: 'string', description: 'with --serve: seconds per connection level (default 10)' },
  connections: { type: 'string', description: 'with --serve: concurrent connections, a comma list for several levels (default 1,10,64: the levels the targets are judged at, and one between)' },
  'server-node-options': { type: 'string', description: 'with --serve: extra Node/V8 flags for the server process, e.g. --server-node-options="--max-semi-space-size=4"' },
  'gc-report': { type: 'boolean', description: "with --serve: also report per level how much of the latency tail the server's GC pauses make" },
});

if (raw.serve) {
  const serveInput = {
    ...(raw.duration !== undefined ? { duration: raw.duration } : {}),
    ...(raw.connections !== undefined ? { connections: raw.connections } : {}),
    ...(raw.source !== undefined ? { sourceDir: resolve(raw.source) } : {}),
    ...(raw['server-node-options'] !== undefined ? { serverNodeOptions: raw['server-node-options'] } : {}),
    ...(raw['gc-report'] ? { gcReport: true } : {}),
  };
  const serveOptions = serveBenchOptionsSchema.safeParse(serveInput);
  if (!serveOptions.success) {
    console.error(`bench --serve: ${serveOptions.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    process.exit(2);
  }
  const results = await runServeBench(serveInput);
  console.log(formatServeBenchRun(results));
  const dir = resolve(raw.out ?? 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().slice(0, 10)}-serve.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(`\nwritten ${file}`);
  process.exit(0);
}

if (raw.scale === undefined) {
  console.error('bench: --scale is required, e.g. --scale 1 (see --help)');
  process.exit(2);
}
const parsed = benchOptionsSchema.safeParse(
  Object.fromEntries(Object.entries({ ...raw, explainCost: raw['explain-cost'] }).filter(([, value]) => value !== undefined)),
);
if (!parsed.success) {
  console.error(`bench: ${parsed.error.issues.map((issue) => `--${issue.path.join('.') || 'options'}: ${issue.message}`).join('; ')} (see --help)`);
  process.exit(2);
}
const options = parsed.data;

function report(result: BenchResult): string {
  const s = result.seconds;
  const t = result.temporal;
  const stages = formatTable(['stage', 'seconds'], [
    ['generate data', String(s.generate)],
    ['start dev server', String(s.serverStart)],
    ['start worker (bundle)', String(s.workerStart)],
    ['phase 1 backfill + training', String(s.phase1)],
    ['phase 2 historical inference', String(s.phase2)],
    ['monitoring', String(s.monitoring)],
    ['pipeline (phase 1+2+monitoring)', String(s.pipeline)],
    ['total', String(s.total)],
    ['floor: same core functions, one process, no Temporal', `${result.floor.seconds.total.toFixed(2)} (etl ${result.floor.seconds.etl.toFixed(1)}, training ${result.floor.seconds.training.toFixed(1)}, scoring ${result.floor.seconds.scoring.toFixed(1)}, monitoring ${result.floor.seconds.monitoring.toFixed(1)}; ${result.floor.cpuSeconds.toFixed(1)} CPU s, etl ${result.floor.cpuSecondsByStage.etl.toFixed(1)})`],
    ['pipeline ÷ floor', String(result.floor.pipelineOverFloor)],
    ['physical floor: the whole job set-based, one process', `${result.physicalFloor.seconds.total.toFixed(2)} (${result.physicalFloor.cpuSeconds.total.toFixed(1)} CPU s)`],
    ['pipeline ÷ physical floor', `${result.physicalFloor.pipelineOverPhysicalFloor}${result.physicalFloor.check.ok ? '' : ' (NOT a floor: its outputs differ from the pipeline\'s)'}`],
  ]);
  const check = result.physicalFloor.check;
  const perStage = formatTable(['stage', 'pipeline s', 'own floor s', 'physical floor s', 'pipeline ÷ own floor', 'pipeline ÷ physical floor'],
    Object.entries(result.stages).map(([stage, x]) => [stage, String(x.pipeline), String(x.ownFloor), String(x.physicalFloor), String(x.pipelineOverOwnFloor), String(x.pipelineOverPhysicalFloor)]));
  const floorCheck = `physical floor check: labels ${check.labelsSame ? 'same' : 'DIFFER'}, features ${check.featuresSame ? 'same' : 'DIFFER'}, ` +
    `family AUCs within ${check.maxFamilyAucDifference.toFixed(4)}, monthly AUCs within ${check.maxMonthAucDifference?.toFixed(4) ?? '- (other family chosen)'}` +
    (check.ok ? '' : `\n  problems: ${check.problems.join('; ')}`);
  const cost = result.costPerMillionBronzeRows;
  const costStages = ['etl', 'training', 'scoring', 'monitoring', 'total'] as const;
  const costs = formatTable(['per million bronze rows', ...costStages],
    [
      ['pipeline wall s', ...costStages.map((stage) => String(cost.pipeline.wall[stage]))],
      ['pipeline worker CPU s', ...costStages.map((stage) => String(cost.pipeline.cpu[stage] ?? '-'))],
      ['physical floor wall s', ...costStages.map((stage) => String(cost.physicalFloor.wall[stage]))],
      ['physical floor CPU s', ...costStages.map((stage) => String(cost.physicalFloor.cpu[stage] ?? '-'))],
    ]);
  const fixed = result.fixedCosts;
  const fixedLines = [
    `fixed costs: orchestration (no activity running) ${fixed.orchestrationSeconds} s over ${fixed.workflows} workflows = ${fixed.orchestrationSecondsPerWorkflow} s each`,
    ...Object.entries(fixed.perCall).map(([name, line]) => `  ${name}: ${line ? `${line.fixedSeconds} s per call + ${line.secondsPerMillionRows} s per million rows (line over ${line.calls} calls)` : 'no split: its run time did not grow with its rows beyond this run\'s noise'}`),
  ].join('\n');
  const figures = formatTable(['figure', 'value'], [
    ['customers', result.customers.toLocaleString('en')],
    ['bronze rows', result.rows.bronze.toLocaleString('en')],
    ['ETL rows/s (bronze rows / phase 1 wall)', result.throughput.etlRowsPerSecond.toLocaleString('en')],
    ['rows scored', result.rows.scored.toLocaleString('en')],
    ['scoring rows/s (per scoreMonth activity second)', result.throughput.scoringRowsPerSecond.toLocaleString('en')],
    ['phase 2 rows per wall second', result.throughput.phase2RowsPerWallSecond.toLocaleString('en')],
    ['activity time (sum, s)', String(t.activitySeconds)],
    ['activity wait: schedule→start (sum, s)', String(t.activityWaitSeconds)],
    ['workflow tasks: wait / run (sum, s)', `${t.workflowTaskWaitSeconds} / ${t.workflowTaskRunSeconds} (${t.workflowTasks} tasks)`],
    ['activity slot utilisation', String(t.activitySlotUtilisation)],
    ['wall with no activity running (Temporal only)', `${result.overhead.idleSeconds} s = ${(100 * result.overhead.temporalShare).toFixed(1)}% of the pipeline (${Object.entries(result.overhead.idleSecondsByStage).map(([stage, idle]) => `${stage} ${idle} s`).join(', ')})`],
    ['activity time beyond the floor (fixed costs, contention)', `${result.overhead.activityMinusFloorSeconds} s`],
    ['data', result.data.kind === 'generated' ? 'generated' : `${result.data.source} (${result.data.customers} customers) ×${result.data.factor}`],
    ['load average at start / end', `${result.machine.loadAverageAtStart.join(' ')} / ${result.machine.loadAverage.join(' ')}`],
    ['worker peak RSS (VmHWM)', `${result.worker.peakRssMiB} MiB, peak in ${result.worker.peakSampleStage} at +${result.worker.peakSampleSecondsIntoStage} s`],
  ]);
  const activities = formatTable(['activity', 'count', 'retries', 'seconds', 'wait s', 'max s', 'rows'],
    Object.entries(t.byActivity).map(([name, a]) => [name, String(a.count), String(a.retries), String(a.seconds), String(a.waitSeconds), String(a.maxSeconds), a.rows.toLocaleString('en')]));
  const cores = formatTable(['span (where the cores went)', 'wall s', 'worker CPU s', 'worker cores', 'machine busy cores'],
    Object.entries(result.cores).map(([span, c]) => (c ? [span, String(c.wall), String(c.workerCpu), `${c.workerCores} of ${c.cores}`, String(c.machineCores)] : [span, '-', '-', '-', '-'])));
  const p = result.scoringProfile;
  const profile = p
    ? formatTable(['scoring, outside Temporal (sum over months)', 'value'], [
        ['load + verify model (s)', p.stages.loadAndVerifyModel.toFixed(2)],
        ['read month encoded by DuckDB (s)', p.stages.readEncoded.toFixed(2)],
        ['onnxruntime (s)', p.stages.onnxScore.toFixed(2)],
        ['whole scoreMonth calls (s)', `${p.scoreMonthSeconds.toFixed(2)} → ${p.scoreMonthRowsPerSecond.toLocaleString('en')} rows/s`],
        ['onnxruntime, all months in one call', `${p.kernelRows.toLocaleString('en')} rows in ${p.kernelSeconds.toFixed(3)} s → ${p.kernelRowsPerSecond.toLocaleString('en')} rows/s`],
      ])
    : 'no scoring profile (no model)';
  const explained = result.explanationCost;
  const explanationCost = explained
    ? formatTable(['explanations in phase 2 (scoreMonth summed, best of rounds)', 'without s', 'with s', 'added', 'added CPU'],
        explained.families.map((cost) => [
          `${cost.family}${cost.family === explained.productionFamily ? ' (production)' : ''}, ${cost.rows.toLocaleString('en')} rows`,
          Math.min(...cost.secondsWithout).toFixed(2),
          Math.min(...cost.secondsWith).toFixed(2),
          `+${cost.extraSeconds.toFixed(2)} s (+${(cost.extraShare * 100).toFixed(0)}%)`,
          `+${(cost.extraCpuShare * 100).toFixed(0)}%`,
        ]))
    : 'explanation cost not measured (--explain-cost)';
  const targets = Object.entries(result.targets).map(([name, target]) => `  ${target.met ? 'MET   ' : 'MISSED'} ${name}: ${target.target}`).join('\n');
  return [stages, perStage, floorCheck, costs, fixedLines, figures, activities, cores, profile, explanationCost, `targets:\n${targets}`].join('\n\n');
}

async function main(): Promise<void> {
  const result = await runBench(options);
  console.log('\n' + report(result));
  const dir = resolve(options.out);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.date.slice(0, 10)}-${options.scale}${result.data.kind === "resampled" ? "-real" : ""}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(`\nwritten ${file}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench failed: ${causes(error).map((cause) => cause.message).join(': ') || String(error)}`);
    process.exit(1);
  },
);
