// The real data set's dirt, reproduced at the shares measured on shared/fixtures/cs611-sample: placeholders,
// trailing underscores, absurd outliers and '_' for missing. Each helper takes the clean text and may spoil it.
import type { Rng } from '../random.js';

export const SSN_PLACEHOLDER = '#F%$D@*&8';
export const OCCUPATION_PLACEHOLDER = '_______';
export const BEHAVIOUR_PLACEHOLDER = '!@9#%8';
export const INVESTED_PLACEHOLDER = '__10000__';
export const MISSING = '_';

/** Shares observed in the real sample (per row). */
export const DIRT_SHARES = {
  ageUnderscore: 0.059,
  ageNegative: 0.007,
  ageHuge: 0.016,
  ssnPlaceholder: 0.057,
  occupationPlaceholder: 0.079,
  incomeUnderscore: 0.078,
  incomeHuge: 0.0086,
  bankAccountsHuge: 0.0177,
  bankAccountsNegative: 0.0005,
  creditCardsHuge: 0.023,
  interestRateHuge: 0.0198,
  loansNegative: 0.038,
  loansHuge: 0.0037,
  loansUnderscore: 0.062,
  delayedHuge: 0.0086,
  delayedUnderscore: 0.037,
  changedLimitMissing: 0.0188,
  inquiriesHuge: 0.015,
  creditMixMissing: 0.204,
  debtUnderscore: 0.0107,
  historyBlank: 0.004,
  emiHuge: 0.032,
  investedPlaceholder: 0.0456,
  behaviourPlaceholder: 0.083,
} as const;

export function withUnderscore(rng: Rng, text: string, share: number): string {
  return rng.chance(share) ? `${text}_` : text;
}

/** Replaces an integer by an absurd one (a data-entry blow-up) with probability `share`. */
export function withHugeInt(rng: Rng, value: number, share: number, low: number, high: number): number {
  return rng.chance(share) ? rng.int(low, high) : value;
}

export function ageText(rng: Rng, age: number): string {
  const roll = rng.next();
  let value = age;
  if (roll < DIRT_SHARES.ageNegative) value = -500;
  else if (roll < DIRT_SHARES.ageNegative + DIRT_SHARES.ageHuge) value = rng.int(800, 8700);
  return withUnderscore(rng, String(value), DIRT_SHARES.ageUnderscore);
}
