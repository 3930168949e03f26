// Measures training time per family (12,500 and 125,000 rows × 40 features, synthetic) and ONNX scoring
// throughput on 125,000 rows. Not a test: run with `npx tsx test/onnx/benchmark.ts` (prints a table).
import { exportToOnnx, OnnxScorer } from '../../core/onnx/index.js';
import { train, xgboostVersion } from '../../core/xgboost/index.js';
import { syntheticProblem, type Family } from '../xgboost/fixtures.js';

const COLS = 40;
const SIZES = [12_500, 125_000];
// Product-like settings: 2 threads (the machine's cores), no early stopping so the work is fixed. tree_method
// 'hist': libxgboost 1.7's default ('auto' → approx at this size) was ~20x slower here.
const BENCH: Record<Family, { params: Record<string, string | number>; rounds: number }> = {
  gbtree: { params: { booster: 'gbtree', objective: 'binary:logistic', tree_method: 'hist', max_depth: 4, eta: 0.1, seed: 7, nthread: 2 }, rounds: 200 },
  gblinear: { params: { booster: 'gblinear', objective: 'binary:logistic', lambda: 1, alpha: 0.01, seed: 7, nthread: 2 }, rounds: 100 },
  rf: {
    params: {
      booster: 'gbtree', objective: 'binary:logistic', tree_method: 'hist', num_parallel_tree: 100, subsample: 0.8,
      colsample_bynode: 0.8, learning_rate: 1, max_depth: 6, seed: 7, nthread: 2,
    },
    rounds: 1,
  },
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  console.log(`libxgboost ${xgboostVersion()}, node ${process.version}, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}`);
  const names = Array.from({ length: COLS }, (_, i) => `f${i}`);
  for (const rows of SIZES) {
    const problem = syntheticProblem({ rows, cols: COLS, seed: 3, missingShare: 0.05 });
    for (const [family, { params, rounds }] of Object.entries(BENCH) as Array<[Family, (typeof BENCH)[Family]]>) {
      const started = performance.now();
      const { booster } = train({ train: problem, params, rounds });
      const trainSeconds = (performance.now() - started) / 1000;
      let line = `train ${family.padEnd(8)} ${String(rows).padStart(7)} × ${COLS}: ${trainSeconds.toFixed(2)} s (${rounds} rounds)`;
      if (rows === SIZES[SIZES.length - 1]) {
        const scorer = await OnnxScorer.load(exportToOnnx(booster.toJson(), names));
        await scorer.score(problem); // warm-up
        const runs: number[] = [];
        for (let run = 0; run < 5; run++) {
          const t = performance.now();
          await scorer.score(problem);
          runs.push((performance.now() - t) / 1000);
        }
        await scorer.release();
        const t = performance.now();
        booster.predict(problem);
        const nativeSeconds = (performance.now() - t) / 1000;
        line += ` | ONNX score ${rows} rows: ${median(runs).toFixed(3)} s = ${Math.round(rows / median(runs)).toLocaleString('en')} rows/s`;
        line += ` (libxgboost predict ${Math.round(rows / nativeSeconds).toLocaleString('en')} rows/s)`;
      }
      booster.dispose();
      console.log(line);
    }
  }
}

await main();
