// `npm run docs:bad-input`: renders docs/bad-input.md. Its range table comes from lib/column-ranges.ts (the one table
// the silver SQL and the scoring API's request schema read), so the document cannot drift from the code:
// test/etl/bad-input-docs.test.ts fails when the committed ranges differ. Its outcome table is written by the mutation
// suite (npm run test:mutations) and kept as it is by this script.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NUMERIC_COLUMNS } from '../../lib/column-ranges.js';
import { SOURCES } from '../../lib/layout.js';

export const BAD_INPUT_DOC = join(fileURLToPath(new URL('../..', import.meta.url)), 'docs', 'bad-input.md');
export const OUTCOMES_START = '<!-- mutation outcomes: written by npm run test:mutations -->';
export const OUTCOMES_END = '<!-- end of mutation outcomes -->';

export interface MutationRow {
  name: string;
  outcome: string;
  detail: string;
}

const number = (value: number) => value.toLocaleString('en-US');

export function renderRanges(): string {
  const lines = ['| source | column | kind | range | outside the range (or unreadable) | why |', '| --- | --- | --- | --- | --- | --- |'];
  for (const source of SOURCES) {
    const columns = Object.entries(NUMERIC_COLUMNS[source]);
    // The twenty clickstream features share one range: one line.
    const shown = source === 'clickstream' ? [[`fe_1 … fe_${columns.length}`, columns[0][1]] as const] : columns;
    for (const [column, range] of shown) {
      const outside = range.outside === 'null' ? 'value NULL, row kept, counted per column' : 'row quarantined with the reason';
      lines.push(`| ${source} | \`${column}\` | ${range.kind === 'int' ? 'integer' : 'decimal'} | ${number(range.min)} … ${number(range.max)} | ${outside} | ${range.why} |`);
    }
  }
  return lines.join('\n');
}

export function renderOutcomes(rows: readonly MutationRow[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 400);
  return ['| bad input | outcome | what the pipeline said |', '| --- | --- | --- |', ...rows.map((row) => `| ${escape(row.name)} | **${row.outcome}** | ${escape(row.detail)} |`)].join('\n');
}

function currentOutcomes(): string {
  try {
    const text = readFileSync(BAD_INPUT_DOC, 'utf8');
    const start = text.indexOf(OUTCOMES_START);
    const end = text.indexOf(OUTCOMES_END);
    if (start >= 0 && end > start) return text.slice(start + OUTCOMES_START.length, end).trim();
  } catch {
    // no document yet
  }
  return '_Not run yet: `npm run test:mutations` writes this table._';
}

export function renderBadInputDoc(outcomes = currentOutcomes()): string {
  return `<!-- Generated: the ranges by \`npm run docs:bad-input\` from lib/column-ranges.ts, the outcomes by \`npm run test:mutations\`.
     Do not edit by hand: test/etl/bad-input-docs.test.ts fails when the ranges differ from the code. -->
# Bad input: what the pipeline does with it

Nothing bad in a source silently becomes a number or a success. Each kind of bad input has one of these outcomes:

- **refused** (\`InvalidSourceData\`, not retried): a file-level defect, or a value the pipeline cannot compute with
  (a query that fails the same way on every try, such as a label whose missed instalments overflow). The message
  names the file, the column and the first offending line; fix the file and run the same command again.
- **month failed** (\`DataQualityError\`, not retried): more than \`MAX_QUARANTINE_SHARE\` (default 20%) of a month's
  rows of one source quarantined, or of its values of one column out of range or unreadable (a whole month of
  negative or \`NaN\` incomes). The message names source, month, column and counts.
- **rows quarantined with a reason**: a row that cannot be used (a ledger amount out of range, a conflicting
  duplicate) goes to \`quarantine/<source>/…\` with its \`reason\`.
- **values kept as NULL, counted per column**: a value outside its column's range below is NULL in silver, the
  row kept; the month's ETL result counts them per column (\`nulledValues\`, \`nulls\`: column, count, range, first
  line) and the worker logs them.
- **data finding**: a numeric column with no usable value in a month although the month before had some; returned in
  the month's result (\`findings\`) and logged as a warning by the worker. Never a failure on its own.

## Numeric ranges (one table for batch and the scoring API)

A value is a number only if it looks like one (optional sign, digits, optional decimals; trailing \`_\` and blanks
ignored) and lies in its column's finite range. A 400-digit field is Infinity once cast and is outside every range.

${renderRanges()}

The scoring API (\`POST /v1/score\`) reads the same table: a number-shaped field that is not finite (an overflow)
is refused with 400 naming the field; a finite value outside the range is treated as batch treats it (NULL for a
"NULL" column, the application rejected with 422 for a "quarantine" one), so the real data's dirt scores online as
it did in batch. The API also refuses (400, naming the field) a record whose \`Customer_ID\` is not the loan's, and
an application month outside the months the datamart can explain: from its first feature-store month to the month
after its newest (without a feature store: the production model's windows).

## Files that change without looking changed

The staging cache of each source file is keyed on its real path, size, mtime, ctime and inode: \`touch -d\` can put
an edited file's mtime back, not its ctime, so a same-size edit is seen. \`npm run backfill -- --force\` reads and
hashes the source files again whatever the key says (once per backfill run).

## One source folder per datamart

Two backfills of different source folders on one datamart would overwrite each other's months and both report a
model trained on a mix. A backfill whose \`--source\` differs from a running backfill's is refused before it starts:
the command exits 2 naming the other backfill (\`SourceFolderBusy\`; the workflow checks again, so of two started
at the same moment the later one gives way). Wait for the other one to finish (\`npm run status\`), then run it again.
A backfill of the same folder and range attaches to the running one.

## Disk full

A write that runs out of space fails with \`DiskFull\` (not retried) naming the path, the space it needed (exact,
at least, or about) and the space free; the command says to free space and run it again. A partition's lineage is
written before its data and published by a rename, so a full disk never leaves \`data.parquet\` without its
\`_lineage.json\`. A failed training is reported as "the training as of M failed", not as a failed month.
Training sets under \`MODEL_BANK_DIR/_work/\` unused for 6 hours are removed when the next training set is built.

## No server

A client command that cannot reach Temporal says so: "start it with \`npm run server\`".

## Mutation suite

\`npm run test:mutations\` applies each class of bad input to a copy of the real sample and runs the month's ETL (or
sends the request) against a good datamart; it fails on any outcome not listed for the class, and on "silent" (gold
changed with none of the above to show for it). Its last run:

${OUTCOMES_START}
${outcomes}
${OUTCOMES_END}
`;
}

/** Rewrites the document with these outcomes (the mutation suite). */
export async function writeMutationTable(rows: readonly MutationRow[]): Promise<void> {
  writeFileSync(BAD_INPUT_DOC, renderBadInputDoc(renderOutcomes(rows)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(BAD_INPUT_DOC, renderBadInputDoc());
  console.log(`wrote ${BAD_INPUT_DOC}`);
}
