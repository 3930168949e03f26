// One synthetic customer's clean facts. A latent credit quality `q` (higher = safer) ties the features together
// the way the real data set's are tied: income, rates, delays, credit mix and debt all lean with it.
import type { Rng } from '../random.js';

export const OCCUPATIONS = [
  'Scientist', 'Teacher', 'Engineer', 'Entrepreneur', 'Developer', 'Lawyer', 'Media_Manager', 'Doctor',
  'Journalist', 'Manager', 'Accountant', 'Musician', 'Mechanic', 'Writer', 'Architect',
] as const;

export const LOAN_TYPES = [
  'Auto Loan', 'Credit-Builder Loan', 'Personal Loan', 'Home Equity Loan', 'Mortgage Loan', 'Student Loan',
  'Debt Consolidation Loan', 'Payday Loan', 'Not Specified',
] as const;

export const PAYMENT_BEHAVIOURS = [
  'Low_spent_Small_value_payments', 'High_spent_Medium_value_payments', 'Low_spent_Medium_value_payments',
  'High_spent_Large_value_payments', 'High_spent_Small_value_payments', 'Low_spent_Large_value_payments',
] as const;
// Shares in the real sample, placeholder excluded.
const PAYMENT_BEHAVIOUR_WEIGHTS = [497, 344, 255, 231, 225, 159];

export const CLICKSTREAM_FEATURES = 20;
/** Clickstream columns whose customer level carries risk signal (1-based fe_ numbers). */
export const SIGNAL_CLICKS = { stable: [3, 7], drifted: [12, 18] } as const;

export type CreditMix = 'Good' | 'Standard' | 'Bad';
export type MinPayment = 'Yes' | 'No' | 'NM';

export interface Profile {
  quality: number;
  age: number;
  occupation: string;
  income: number; // annual, 2 decimals
  monthlySalary: number;
  bankAccounts: number;
  creditCards: number;
  interestRate: number;
  loanTypes: string[];
  delayFromDue: number;
  delayedPayments: number;
  changedLimit: number;
  inquiries: number;
  creditMix: CreditMix;
  debt: number;
  utilization: number;
  historyMonths: number;
  minPayment: MinPayment;
  emi: number;
  invested: number;
  behaviour: string;
  balance: number;
  hasClickstream: boolean;
  /** Customer-level mean of each fe_ column (index 0 = fe_1); monthly rows scatter around it. */
  clickLevels: number[];
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
const round2 = (value: number) => Math.round(value * 100) / 100;

/** How far post-drift applicants' features move in the population-shift scenario. */
export interface PopulationShift {
  incomeFactor: number;
  interestRateDelta: number;
  debtFactor: number;
  delayDelta: number;
  clickDelta: number;
}
export const POPULATION_SHIFT: PopulationShift = {
  incomeFactor: 0.6,
  interestRateDelta: 4,
  debtFactor: 1.8,
  delayDelta: 8,
  clickDelta: 75,
};

export function drawProfile(rng: Rng, shift: PopulationShift | null): Profile {
  const q = rng.normal();
  const n = () => rng.normal();

  const age = clamp(Math.round(33 + 10 * n() + 2 * q), 14, 56);
  const occupation = rng.pick(OCCUPATIONS);
  let income = clamp(Math.exp(Math.log(37_000) + 0.95 * (0.55 * q + 0.84 * n())), 7_000, 180_000);
  if (shift) income = Math.max(7_000, income * shift.incomeFactor);
  income = round2(income);
  const monthlySalary = round2(income * rng.uniform(0.86, 1.05)) / 12;

  const bankAccounts = clamp(Math.round(5.4 - 1.1 * q + 2.3 * n()), 0, 11);
  const creditCards = clamp(Math.round(5.5 - 0.8 * q + 1.9 * n()), 0, 11);
  let interestRate = clamp(Math.round(14.5 - 5.5 * q + 6.5 * n()), 1, 34);
  if (shift) interestRate = clamp(interestRate + shift.interestRateDelta, 1, 34);
  const loanCount = clamp(Math.round(3.4 - 1.0 * q + 2.1 * n()), 0, 9);
  const loanTypes = Array.from({ length: loanCount }, () => rng.pick(LOAN_TYPES));
  let delayFromDue = clamp(Math.round(14.5 - 8 * q + 10 * n() + 6 * Math.abs(n())), -5, 67);
  if (shift) delayFromDue = clamp(delayFromDue + shift.delayDelta, -5, 67);
  const delayedPayments = clamp(Math.round(13.5 - 3.5 * q + 5 * n()), -3, 28);
  const changedLimit = round2(clamp(9.5 - 2.5 * q + 6.5 * n(), -6, 36));
  const inquiries = clamp(Math.round(6 - 2.2 * q + 3 * n()), 0, 17);
  const mixScore = q + 0.7 * n();
  const creditMix: CreditMix = mixScore > 0.59 ? 'Good' : mixScore < -0.85 ? 'Bad' : 'Standard';
  let debt = clamp(Math.exp(Math.log(1_100) - 0.6 * q + 0.8 * n()), 0.23, 4_998);
  if (shift) debt = Math.min(4_998, debt * shift.debtFactor);
  debt = round2(debt);
  const utilization = clamp(32.5 - 0.6 * q + 5 * n(), 20, 50) + rng.next() * 1e-6;
  const historyMonths = clamp(Math.round(216 + 45 * q + 80 * n()), 1, 404);
  const minPayment: MinPayment = rng.chance(0.126) ? 'NM' : -q + 0.9 * n() > -0.45 ? 'Yes' : 'No';
  const emi = loanCount === 0 ? 0 : monthlySalary * loanCount * rng.uniform(0.004, 0.02);
  const invested = monthlySalary * rng.uniform(0.02, 0.12);
  const behaviour = PAYMENT_BEHAVIOURS[rng.weighted(PAYMENT_BEHAVIOUR_WEIGHTS)];
  const balance = Math.max(6 + rng.next(), monthlySalary * rng.uniform(0.05, 0.14) + 120 * n() + 60);

  const hasClickstream = rng.chance(0.72);
  const clickLevels: number[] = [];
  for (let k = 1; k <= CLICKSTREAM_FEATURES; k++) {
    let level = 100 + (k >= 8 && k <= 10 ? 10 : 0);
    if (k === SIGNAL_CLICKS.stable[0]) level += -45 * q + 35 * n();
    else if (k === SIGNAL_CLICKS.stable[1]) level += 40 * q + 35 * n();
    else level += 45 * n(); // including the concept-drift signals: independent of q by design
    clickLevels.push(level);
  }

  return {
    quality: q, age, occupation, income, monthlySalary, bankAccounts, creditCards, interestRate, loanTypes,
    delayFromDue, delayedPayments, changedLimit, inquiries, creditMix, debt, utilization, historyMonths,
    minPayment, emi, invested, behaviour, balance, hasClickstream, clickLevels,
  };
}
