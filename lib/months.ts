// Month arithmetic on 'YYYY-MM' strings. Pure: shared by workflows (deterministic) and activities.
import { z } from 'zod';

export type Month = string;

const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(value: string): boolean {
  return MONTH_PATTERN.test(value);
}

export function parseMonth(value: string, what = 'month'): Month {
  if (!isMonth(value)) throw new Error(`${what} must be YYYY-MM, got '${value}'`);
  return value;
}

function toIndex(month: Month): number {
  const match = MONTH_PATTERN.exec(month);
  if (!match) throw new Error(`not a YYYY-MM month: '${month}'`);
  return Number(match[1]) * 12 + Number(match[2]) - 1;
}

function fromIndex(index: number): Month {
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

export function addMonths(month: Month, count: number): Month {
  return fromIndex(toIndex(month) + count);
}

/** Whole months from `from` to `to` (negative when `to` is earlier). */
export function monthsBetween(from: Month, to: Month): number {
  return toIndex(to) - toIndex(from);
}

export function compareMonths(a: Month, b: Month): number {
  return toIndex(a) - toIndex(b);
}

/** Every month from `from` to `to`, both included. */
export function monthRange(from: Month, to: Month): Month[] {
  const count = monthsBetween(from, to);
  if (count < 0) throw new Error(`month range is empty: ${from} is after ${to}`);
  return Array.from({ length: count + 1 }, (_, offset) => addMonths(from, offset));
}

/** The snapshot date of a month: its first day, 'YYYY-MM-01'. */
export function snapshotDate(month: Month): string {
  parseMonth(month);
  return `${month}-01`;
}

/** 'YYYY-MM-DD' (or a Date's ISO text) to its month. */
export function monthOf(date: string): Month {
  return parseMonth(date.slice(0, 7), `date '${date}'`);
}

/** A 'YYYY-MM' month as a zod schema, for every outside input that names one. */
export const monthSchema = z.string().regex(MONTH_PATTERN, 'expected a month as YYYY-MM');
