// One customer's rows in all four source files, drawn from its own PRNG stream (seed, index).
import { compareMonths } from '../../lib/months.js';
import {
  BEHAVIOUR_PLACEHOLDER, DIRT_SHARES, INVESTED_PLACEHOLDER, MISSING, OCCUPATION_PLACEHOLDER, SSN_PLACEHOLDER,
  ageText, withHugeInt, withUnderscore,
} from './dirt.js';
import { ledgerRows } from './ledger.js';
import type { Scenario } from './options.js';
import { CLICKSTREAM_FEATURES, POPULATION_SHIFT, SIGNAL_CLICKS, drawProfile } from './profile.js';
import { Rng } from '../random.js';
import { defaultProbability, driftedRiskScore, stableRiskScore } from './risk.js';
import { csvField, historyAgeText, isoDate, loanListText, nameText, shortUsDate, ssnText } from './text.js';

export const ATTRIBUTES_HEADER = 'Customer_ID,Name,Age,SSN,Occupation,snapshot_date';
export const FINANCIALS_HEADER =
  'Customer_ID,Annual_Income,Monthly_Inhand_Salary,Num_Bank_Accounts,Num_Credit_Card,Interest_Rate,Num_of_Loan,' +
  'Type_of_Loan,Delay_from_due_date,Num_of_Delayed_Payment,Changed_Credit_Limit,Num_Credit_Inquiries,Credit_Mix,' +
  'Outstanding_Debt,Credit_Utilization_Ratio,Credit_History_Age,Payment_of_Min_Amount,Total_EMI_per_month,' +
  'Amount_invested_monthly,Payment_Behaviour,Monthly_Balance,snapshot_date';
export const CLICKSTREAM_HEADER = `${Array.from({ length: CLICKSTREAM_FEATURES }, (_, i) => `fe_${i + 1}`).join(',')},Customer_ID,snapshot_date`;
export const TRUTH_HEADER = 'Customer_ID,application_month,drifted,stable_risk_score,true_probability,defaulted';

export interface Plan {
  seed: number;
  scenario: Scenario;
  driftFrom: string;
  applicationMonths: readonly string[];
  observedMonths: readonly string[];
  observedTo: string;
}

export interface CustomerRows {
  attributes: string;
  financials: string;
  clickstream: string;
  clickstreamRows: number;
  ledger: string;
  ledgerRows: number;
  truth: string;
}

// Ids look like the real ones (CUS_0x1000..) and grow with the index, so every id is unique.
export function customerId(index: number, rng: Rng): string {
  return `CUS_0x${(0x1000 + index * 4 + rng.int(0, 3)).toString(16)}`;
}

export function generateCustomer(index: number, plan: Plan): CustomerRows {
  const rng = new Rng(plan.seed, index);
  const id = customerId(index, rng);
  const month = rng.pick(plan.applicationMonths);
  const afterDrift = plan.scenario !== 'stable' && compareMonths(month, plan.driftFrom) >= 0;
  const profile = drawProfile(rng, plan.scenario === 'population-shift' && afterDrift ? POPULATION_SHIFT : null);

  // Clickstream: every observed month, shifted from the drift month on in the population-shift scenario.
  let clickstream = '';
  let clickstreamRows = 0;
  let applicationClicks: number[] | null = null;
  if (profile.hasClickstream) {
    for (const observed of plan.observedMonths) {
      const shifted = plan.scenario === 'population-shift' && compareMonths(observed, plan.driftFrom) >= 0;
      const values = profile.clickLevels.map((level, k) =>
        Math.round(level + 85 * rng.normal() + (shifted && k === SIGNAL_CLICKS.stable[0] - 1 ? POPULATION_SHIFT.clickDelta : 0)),
      );
      if (observed === month) applicationClicks = values;
      clickstream += `${values.join(',')},${id},${isoDate(observed)}\n`;
      clickstreamRows++;
    }
  }

  const input = { profile, clicks: applicationClicks };
  const stableScore = stableRiskScore(input);
  const conceptDrifted = plan.scenario === 'concept-drift' && afterDrift;
  const noise = rng.normal();
  const probability = defaultProbability(conceptDrifted ? driftedRiskScore(input) : stableScore, noise, conceptDrifted);
  const defaulted = rng.next() < probability;

  const attributes =
    `${id},${nameText(rng)},${ageText(rng, profile.age)},` +
    `${rng.chance(DIRT_SHARES.ssnPlaceholder) ? SSN_PLACEHOLDER : ssnText(rng)},` +
    `${rng.chance(DIRT_SHARES.occupationPlaceholder) ? OCCUPATION_PLACEHOLDER : profile.occupation},${isoDate(month)}\n`;

  const s = DIRT_SHARES;
  const income = rng.chance(s.incomeHuge) ? String(rng.int(800_000, 24_000_000)) : String(profile.income);
  let loans = String(profile.loanTypes.length);
  const loanRoll = rng.next();
  if (loanRoll < s.loansNegative) loans = '-100';
  else if (loanRoll < s.loansNegative + s.loansHuge) loans = String(rng.int(30, 1500));
  const bankAccounts = rng.chance(s.bankAccountsNegative) ? -1 : withHugeInt(rng, profile.bankAccounts, s.bankAccountsHuge, 20, 1800);
  const emi = rng.chance(s.emiHuge) ? String(rng.int(2_000, 82_000)) : String(profile.emi);
  const financials = [
    id,
    withUnderscore(rng, income, s.incomeUnderscore),
    String(profile.monthlySalary),
    String(bankAccounts),
    String(withHugeInt(rng, profile.creditCards, s.creditCardsHuge, 12, 1500)),
    String(withHugeInt(rng, profile.interestRate, s.interestRateHuge, 35, 5800)),
    withUnderscore(rng, loans, s.loansUnderscore),
    csvField(loanListText(profile.loanTypes)),
    String(profile.delayFromDue),
    withUnderscore(rng, String(withHugeInt(rng, profile.delayedPayments, s.delayedHuge, 100, 4400)), s.delayedUnderscore),
    rng.chance(s.changedLimitMissing) ? MISSING : String(profile.changedLimit),
    String(withHugeInt(rng, profile.inquiries, s.inquiriesHuge, 20, 2600)),
    rng.chance(s.creditMixMissing) ? MISSING : profile.creditMix,
    withUnderscore(rng, String(profile.debt), s.debtUnderscore),
    String(profile.utilization),
    rng.chance(s.historyBlank) ? '' : historyAgeText(profile.historyMonths),
    profile.minPayment,
    emi,
    rng.chance(s.investedPlaceholder) ? INVESTED_PLACEHOLDER : String(profile.invested),
    rng.chance(s.behaviourPlaceholder) ? BEHAVIOUR_PLACEHOLDER : profile.behaviour,
    String(profile.balance),
    shortUsDate(month),
  ].join(',') + '\n';

  const ledger = ledgerRows(rng, id, month, plan.observedTo, defaulted);
  const truth = `${id},${month},${conceptDrifted ? 1 : 0},${stableScore},${probability},${defaulted ? 1 : 0}\n`;

  return { attributes, financials, clickstream, clickstreamRows, ledger: ledger.text, ledgerRows: ledger.rows, truth };
}
