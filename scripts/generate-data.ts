// npm run generate-data -- [options]: writes the four synthetic source CSVs of the CS611 shape.
import { parseArgs } from 'node:util';
import { generateSources, SCENARIOS } from '../core/generator/index.js';

const HELP = `Usage: npm run generate-data -- [options]

Writes features_attributes.csv, features_financials.csv, feature_clickstream.csv and lms_loan_daily.csv
in the exact shape (and dirt) of the real CS611 data set. Same seed and options give the same bytes.

Options:
  --customers N          customers, one loan application each            (default 12500)
  --from YYYY-MM         first application month                         (default 2023-01)
  --to YYYY-MM           last application month                          (default 2025-01)
  --observed-to YYYY-MM  last month of the loan ledger and clickstream   (default: one month before --to,
                         as in the real set, whose attributes reach one month past the ledger)
  --seed S               PRNG seed, a whole number                       (default 42)
  --scenario NAME        ${SCENARIOS.join(' | ')}           (default stable)
                           population-shift: key features (income, interest rate, debt, delay, fe_3) move
                           from --drift-from on; concept-drift: what drives default changes from --drift-from on
  --drift-from YYYY-MM   first drifted month                             (default 2024-01)
  --out DIR              output folder                                   (default data/raw)
  --truth FILE           also write each customer's true default probability (for checks)
  --help                 show this help
`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        customers: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'observed-to': { type: 'string' },
        seed: { type: 'string' },
        scenario: { type: 'string' },
        'drift-from': { type: 'string' },
        out: { type: 'string' },
        truth: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\nRun with --help for the options.`, { cause: error });
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const started = performance.now();
  const result = await generateSources({
    customers: values.customers,
    from: values.from,
    to: values.to,
    observedTo: values['observed-to'],
    seed: values.seed,
    scenario: values.scenario as never,
    driftFrom: values['drift-from'],
    out: values.out,
    truthFile: values.truth,
  }, (done, total) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} customers`);
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const { options } = result;
  console.log(
    `generated ${options.customers} customers (${options.scenario}, seed ${options.seed}, applications ` +
      `${options.from}..${options.to}, observed to ${options.observedTo}) in ${seconds}s`,
  );
  for (const [source, path] of Object.entries(result.files)) {
    console.log(`  ${path}: ${result.rows[source as keyof typeof result.rows]} rows`);
  }
}

main().catch((error: unknown) => {
  console.error(`generate-data: ${(error as Error).message}`);
  process.exit(1);
});
