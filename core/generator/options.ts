// Generator options: one zod schema shared by the CLI and the plain function, so both reject bad input alike.
import { z } from 'zod';
import { addMonths, compareMonths, isMonth } from '../../lib/months.js';

export const SCENARIOS = ['stable', 'population-shift', 'concept-drift'] as const;
export type Scenario = (typeof SCENARIOS)[number];

const month = (what: string) =>
  z.string().refine(isMonth, { message: `${what} must be a month written YYYY-MM (e.g. 2023-01)` });

export const generatorOptionsSchema = z
  .object({
    customers: z.coerce
      .number({ message: 'customers must be a number' })
      .int('customers must be a whole number')
      .min(1, 'customers must be at least 1')
      .max(20_000_000, 'customers must be at most 20,000,000')
      .default(12_500),
    from: month('from').default('2023-01'),
    to: month('to').default('2025-01'),
    /** Last month the loan ledger and clickstream are observed; default one month before `to`, as in the real set. */
    observedTo: month('observed-to').optional(),
    seed: z.coerce
      .number({ message: 'seed must be a number' })
      .int('seed must be a whole number')
      .min(0, 'seed must be >= 0')
      .max(Number.MAX_SAFE_INTEGER, 'seed is too large')
      .default(42),
    scenario: z.enum(SCENARIOS, { message: `scenario must be one of: ${SCENARIOS.join(', ')}` }).default('stable'),
    driftFrom: month('drift-from').default('2024-01'),
    out: z.string().min(1, 'out must be a folder path').default('data/raw'),
    /** Optional CSV of each customer's true default probability and outcome (for checks; not a source file). */
    truthFile: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((options, context) => {
    // zod still runs this when a field failed: only compare months that are well-formed.
    const months = [options.from, options.to, options.observedTo ?? options.to];
    if (!months.every((value) => typeof value === 'string' && isMonth(value))) return;
    if (compareMonths(options.from, options.to) > 0) {
      context.addIssue({ code: 'custom', path: ['to'], message: `to (${options.to}) is before from (${options.from})` });
    }
    const observedTo = options.observedTo ?? addMonths(options.to, -1);
    if (compareMonths(observedTo, options.from) < 0) {
      context.addIssue({
        code: 'custom',
        path: ['observedTo'],
        message: `observed-to (${observedTo}) is before from (${options.from}): nothing would be observed`,
      });
    }
  });

export type GeneratorOptionsInput = z.input<typeof generatorOptionsSchema>;
export type GeneratorOptions = z.output<typeof generatorOptionsSchema> & { observedTo: string };

/** Validates options, filling defaults; throws an Error listing every problem by option name. */
export function parseGeneratorOptions(input: GeneratorOptionsInput): GeneratorOptions {
  const result = generatorOptionsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.map(String).join('.');
      return name ? `--${kebab(name)}: ${issue.message}` : issue.message;
    });
    throw new Error(`invalid generator options:\n  ${problems.join('\n  ')}`);
  }
  const options = result.data;
  return { ...options, observedTo: options.observedTo ?? addMonths(options.to, -1) };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
