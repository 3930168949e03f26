// The loan ledger: one row per loan per month on book, installment 0..tenure, cut at the last observed month.
// Payment paths are built so SPEC §2's label (30 days past due at installment 6) equals the drawn outcome:
// a defaulter stops paying at installment 1..5 (so at least two installments are overdue at 6, dpd >= 59);
// a payer may miss an installment now and then but always catches up the next month, never missing the 6th.
import { addMonths, monthsBetween } from '../../lib/months.js';
import type { Rng } from '../random.js';
import { floatText, isoDate } from './text.js';

export const LEDGER_HEADER =
  'loan_id,Customer_ID,loan_start_date,tenure,installment_num,loan_amt,due_amt,paid_amt,overdue_amt,balance,snapshot_date';
export const TENURE = 10;
export const LOAN_AMOUNT = 10_000;
export const LABEL_INSTALLMENT = 6;

// Installment at which a defaulter stops paying, 1..5: the real sample's overdue counts at installment 6.
const STOP_WEIGHTS = [19, 60, 119, 128, 82];
const OCCASIONAL_MISS = 0.08;
const LATE_DEFAULT = 0.06; // payers who stop after the label month: noise outside the label, as in life

export interface LedgerLoan {
  text: string;
  rows: number;
}

export function loanId(customerId: string, month: string): string {
  return `${customerId}_${month.slice(0, 4)}_${month.slice(5, 7)}_01`;
}

export function ledgerRows(rng: Rng, customerId: string, startMonth: string, observedTo: string, defaulted: boolean): LedgerLoan {
  const lastInstallment = Math.min(TENURE, monthsBetween(startMonth, observedTo));
  if (lastInstallment < 0) return { text: '', rows: 0 };
  const due = LOAN_AMOUNT / TENURE;
  let stopAt = Infinity;
  if (defaulted) stopAt = 1 + rng.weighted(STOP_WEIGHTS);
  else if (rng.chance(LATE_DEFAULT)) stopAt = rng.int(LABEL_INSTALLMENT + 1, TENURE);

  const id = loanId(customerId, startMonth);
  const start = isoDate(startMonth);
  let paidTotal = 0;
  let text = '';
  let missedLast = false;
  for (let installment = 0; installment <= lastInstallment; installment++) {
    const dueNow = installment === 0 ? 0 : due;
    const dueTotal = due * installment;
    let paid = 0;
    if (installment > 0 && installment < stopAt) {
      const mayMiss = !missedLast && installment !== LABEL_INSTALLMENT && installment + 1 < stopAt;
      if (mayMiss && rng.chance(defaulted ? 0.15 : OCCASIONAL_MISS)) {
        missedLast = true;
      } else {
        paid = dueTotal - paidTotal; // this installment plus whatever was overdue
        missedLast = false;
      }
    }
    paidTotal += paid;
    const overdue = dueTotal - paidTotal;
    const balance = LOAN_AMOUNT - paidTotal;
    text +=
      `${id},${customerId},${start},${TENURE},${installment},${LOAN_AMOUNT},${floatText(dueNow)},${floatText(paid)},` +
      `${floatText(overdue)},${floatText(balance)},${isoDate(addMonths(startMonth, installment))}\n`;
  }
  return { text, rows: lastInstallment + 1 };
}
