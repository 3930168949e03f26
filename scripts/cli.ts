// Command-line options for the client scripts: node's parseArgs for the syntax, zod for the values, `--help` for
// people. A bad option exits with a message naming it.
import { monthSchema } from '../lib/months.js';
import { parseArgs } from 'node:util';
import { z } from 'zod';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  schema?: z.ZodType;
  short?: string;
}

type Values<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K]['schema'] extends z.ZodType ? z.output<S[K]['schema']> : S[K]['type'] extends 'boolean' ? boolean : string | undefined;
};

export const monthOption = monthSchema;
export const NO_WAIT: OptionSpec = { type: 'boolean', description: 'start and print the workflow id instead of waiting' };

export class UsageError extends Error {}

export function usage(command: string, description: string, options: Record<string, OptionSpec>): string {
  const lines = Object.entries(options).map(([name, spec]) => {
    const flag = `--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
    return `  ${flag.padEnd(26)} ${spec.description}`;
  });
  return [`usage: npm run ${command} -- [options]`, '', description, '', 'options:', ...lines, `  ${'--help'.padEnd(26)} this text`].join('\n');
}

export function parseCommandLine<S extends Record<string, OptionSpec>>(
  command: string,
  description: string,
  options: S,
  argv: string[] = process.argv.slice(2),
): Values<S> {
  const parseOptions = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}) }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...parseOptions, help: { type: 'boolean' } }, strict: true, allowPositionals: false });
  } catch (error) {
    fail(command, description, options, (error as Error).message);
  }
  if (parsed.values.help) {
    console.log(usage(command, description, options));
    process.exit(0);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(options)) {
    const raw = (parsed.values as Record<string, unknown>)[name];
    const schema = spec.schema ?? (spec.type === 'boolean' ? z.boolean().default(false) : z.string().optional());
    const result = schema.safeParse(raw);
    if (!result.success) fail(command, description, options, `--${name} ${raw === undefined ? '(missing)' : `'${raw}'`}: ${result.error.issues.map((i) => i.message).join('; ')}`);
    values[name] = result.data;
  }
  return values as Values<S>;
}

/** A combination of options that each parsed but do not fit together: exit 2 with the problem. */
export function usageError(command: string, problem: string): never {
  console.error(`${command}: ${problem} (--help for the options)`);
  process.exit(2);
}

function fail(command: string, description: string, options: Record<string, OptionSpec>, problem: string): never {
  console.error(`${command}: ${problem}\n\n${usage(command, description, options)}`);
  process.exit(2);
}
