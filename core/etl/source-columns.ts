// The columns each source must carry (SPEC §1, fixtures README): a file lacking one is refused as a whole.
import type { Source } from '../../lib/layout.js';

const CLICKSTREAM_FEATURES = Array.from({ length: 20 }, (_, index) => `fe_${index + 1}`);

export const REQUIRED_COLUMNS: Record<Source, readonly string[]> = {
  attributes: ['Customer_ID', 'Name', 'Age', 'SSN', 'Occupation', 'snapshot_date'],
  financials: [
    'Customer_ID',
    'Annual_Income',
    'Monthly_Inhand_Salary',
    'Num_Bank_Accounts',
    'Num_Credit_Card',
    'Interest_Rate',
    'Num_of_Loan',
    'Type_of_Loan',
    'Delay_from_due_date',
    'Num_of_Delayed_Payment',
    'Changed_Credit_Limit',
    'Num_Credit_Inquiries',
    'Credit_Mix',
    'Outstanding_Debt',
    'Credit_Utilization_Ratio',
    'Credit_History_Age',
    'Payment_of_Min_Amount',
    'Total_EMI_per_month',
    'Amount_invested_monthly',
    'Payment_Behaviour',
    'Monthly_Balance',
    'snapshot_date',
  ],
  clickstream: [...CLICKSTREAM_FEATURES, 'Customer_ID', 'snapshot_date'],
  loan_daily: [
    'loan_id',
    'Customer_ID',
    'loan_start_date',
    'tenure',
    'installment_num',
    'loan_amt',
    'due_amt',
    'paid_amt',
    'overdue_amt',
    'balance',
    'snapshot_date',
  ],
};

export const CLICKSTREAM_FEATURE_COLUMNS: readonly string[] = CLICKSTREAM_FEATURES;

/** Columns bronze adds to the raw text columns: where the row came from and when it was read. */
export const BRONZE_LINEAGE_COLUMNS = ['source_line', 'date_spelling', 'ingested_at'] as const;

/** Placeholder spellings of "unknown" found in the real data; silver turns them (and any run of `_`) into NULL. */
export const PLACEHOLDERS: readonly string[] = ['', '_', '_______', '!@9#%8', '#F%$D@*&8', '__10000__'];
