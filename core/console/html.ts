// HTML for the console's pages: a tagged template that escapes every interpolated value unless it is already HTML
// (another template's result), so no page can put a model id, a reason or a feature value into the markup unescaped.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Markup that is known to be safe (built here, never from data). */
export function raw(text: string): Html {
  return new Html(text);
}

/** JSON inside a <script> element: `<` escaped so no value can close the element. */
export function scriptJson(value: unknown): Html {
  return new Html(JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'));
}

export function formatNumber(value: unknown, digits = 4): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export interface Column<T> {
  header: string;
  value: (row: T) => Value;
  /** Right-aligned (numbers). */
  numeric?: boolean;
}

/** A table with a caption (screen readers announce it) and a header row. */
export function table<T>(caption: string, columns: readonly Column<T>[], rows: readonly T[], attributes: { id?: string; rowClass?: (row: T) => string } = {}): Html {
  return html`<table${attributes.id ? html` id="${attributes.id}"` : ''}>
<caption>${caption}</caption>
<thead><tr>${columns.map((column) => html`<th scope="col">${column.header}</th>`)}</tr></thead>
<tbody>
${rows.map((row) => html`<tr${attributes.rowClass ? html` class="${attributes.rowClass(row)}"` : ''}>${columns.map((column) => html`<td${column.numeric ? raw(' class="num"') : ''}>${column.value(row)}</td>`)}</tr>\n`)}</tbody>
</table>`;
}

/** The honest message of a page part whose table or column has not been written (yet). */
export function notAvailable(what: string, why: string): Html {
  return html`<p class="missing" role="note"><strong>Not available yet:</strong> ${what} — ${why}</p>`;
}
