// generateSources: the four raw source CSVs of the CS611 shape, streamed customer by customer.
// Memory stays flat whatever the customer count: only one customer's rows exist at a time.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SOURCE_FILES } from '../../lib/layout.js';
import { monthRange } from '../../lib/months.js';
import {
  ATTRIBUTES_HEADER, CLICKSTREAM_HEADER, FINANCIALS_HEADER, TRUTH_HEADER, generateCustomer, type Plan,
} from './customer.js';
import { LEDGER_HEADER } from './ledger.js';
import { parseGeneratorOptions, type GeneratorOptions, type GeneratorOptionsInput } from './options.js';
import { CsvSink } from './sink.js';

export { SCENARIOS, parseGeneratorOptions, generatorOptionsSchema } from './options.js';
export type { GeneratorOptions, GeneratorOptionsInput, Scenario } from './options.js';

export type SourceName = 'attributes' | 'financials' | 'clickstream' | 'loan_daily';

export interface GenerationResult {
  /** Source name → absolute-or-relative path written (as given by `out`). */
  files: Record<SourceName, string>;
  /** Source name → data rows written (header excluded). */
  rows: Record<SourceName, number>;
  options: GeneratorOptions;
}

export const SOURCE_HEADERS: Record<SourceName, string> = {
  attributes: ATTRIBUTES_HEADER,
  financials: FINANCIALS_HEADER,
  clickstream: CLICKSTREAM_HEADER,
  loan_daily: LEDGER_HEADER,
};

/** Yields to the event loop now and then so a long run does not starve timers (heartbeats, progress). */
const YIELD_EVERY = 2_000;

export async function generateSources(
  input: GeneratorOptionsInput = {},
  onProgress?: (done: number, total: number) => void,
): Promise<GenerationResult> {
  const options = parseGeneratorOptions(input);
  await mkdir(options.out, { recursive: true });
  const plan: Plan = {
    seed: options.seed,
    scenario: options.scenario,
    driftFrom: options.driftFrom,
    applicationMonths: monthRange(options.from, options.to),
    observedMonths: monthRange(options.from, options.observedTo),
    observedTo: options.observedTo,
  };
  const tag = `${process.pid}-${options.seed}`;
  const files = Object.fromEntries(
    (Object.keys(SOURCE_HEADERS) as SourceName[]).map((name) => [name, join(options.out, SOURCE_FILES[name])]),
  ) as Record<SourceName, string>;
  const sinks = Object.fromEntries(
    (Object.keys(SOURCE_HEADERS) as SourceName[]).map((name) => [name, new CsvSink(files[name], SOURCE_HEADERS[name], tag)]),
  ) as Record<SourceName, CsvSink>;
  const truth = options.truthFile ? new CsvSink(options.truthFile, TRUTH_HEADER, tag) : null;
  const rows: Record<SourceName, number> = { attributes: 0, financials: 0, clickstream: 0, loan_daily: 0 };

  try {
    for (let index = 0; index < options.customers; index++) {
      const customer = generateCustomer(index, plan);
      await sinks.attributes.write(customer.attributes);
      await sinks.financials.write(customer.financials);
      if (customer.clickstreamRows > 0) await sinks.clickstream.write(customer.clickstream);
      if (customer.ledgerRows > 0) await sinks.loan_daily.write(customer.ledger);
      if (truth) await truth.write(customer.truth);
      rows.attributes++;
      rows.financials++;
      rows.clickstream += customer.clickstreamRows;
      rows.loan_daily += customer.ledgerRows;
      if ((index + 1) % YIELD_EVERY === 0) {
        onProgress?.(index + 1, options.customers);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    for (const sink of Object.values(sinks)) await sink.commit();
    if (truth) await truth.commit();
  } catch (error) {
    await Promise.all([...Object.values(sinks), ...(truth ? [truth] : [])].map((sink) => sink.abort()));
    throw error;
  }
  onProgress?.(options.customers, options.customers);
  return { files, rows, options };
}
