// Text spellings of the real files: Python-style float text ('1000.0'), loan-type lists, history ages, dates.
import type { Rng } from '../random.js';

/** A float as Python prints it: integers keep a '.0'. */
export function floatText(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** 'A', 'A, and B', 'A, B, and C' — the real Type_of_Loan spelling (quoted by csvField when it has commas). */
export function loanListText(types: readonly string[]): string {
  if (types.length === 0) return '';
  if (types.length === 1) return types[0];
  return `${types.slice(0, -1).join(', ')}, and ${types[types.length - 1]}`;
}

export function historyAgeText(months: number): string {
  return `${Math.floor(months / 12)} Years and ${months % 12} Months`;
}

/** 'YYYY-MM' to the financials spelling 'M/1/yy'. */
export function shortUsDate(month: string): string {
  return `${Number(month.slice(5, 7))}/1/${month.slice(2, 4)}`;
}

export function isoDate(month: string): string {
  return `${month}-01`;
}

/** RFC 4180 quoting, only where needed. */
export function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const FIRST_NAMES = [
  'Alistair', 'Neil', 'Tim', 'Janet', 'Sinead', 'Poornima', 'Ryan', 'Soyoung', 'Irene', 'Carrick', 'David', 'Karen',
  'Maria', 'Jonathan', 'Elena', 'Tomasz', 'Aiko', 'Rahul', 'Grace', 'Lukas', 'Nadia', 'Oscar', 'Priya', 'Samuel',
];
const LAST_NAMES = [
  'Barr', 'Schneyer', 'Cameron', 'Holton', 'Chatterjee', 'Kelly', 'McGurty', 'Carew', 'Hudson', 'Gupta', 'Prodhan',
  'Vlastelica', 'Cohen', 'Felsenthal', 'Preisinger', 'Flynn', 'Mollenkamp', 'Bailey', 'Edwards', 'Alex', 'Kim',
  'Reuter', 'Nakamura', 'Okafor', 'Silva', 'Moreau', 'Jensen', 'Rossi', 'Novak', 'Tanaka', 'Walsh', 'Lindqvist',
];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Names as the real set spells them: 'First Last' or 'Last', with a stray trailing letter. */
export function nameText(rng: Rng): string {
  const last = rng.pick(LAST_NAMES);
  const base = rng.chance(0.4) ? `${rng.pick(FIRST_NAMES)} ${last}` : last;
  return base + LETTERS[rng.int(0, 25)];
}

export function ssnText(rng: Rng): string {
  const part = (digits: number) => String(rng.int(0, 10 ** digits - 1)).padStart(digits, '0');
  return `${part(3)}-${part(2)}-${part(4)}`;
}
