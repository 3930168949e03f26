// The reason-code catalogue (SPEC §4c): for every raw feature of the feature store, the wording an adverse-action
// notice states when that feature is among the principal reasons for a score. One catalogue for batch explanations,
// the scoring API, `npm run explain` and docs/reason-codes.md (rendered from it by scripts/docs/reason-codes.ts).
// test/explain/reason-codes.test.ts fails when a feature-store column has no statement, so an unknown feature fails
// the build, never an application. Pure: the API and the workflows' libraries may import it.

export interface ReasonStatement {
  /** The wording of the reason, as a notice states it. */
  statement: string;
  /** What the feature is, for the model validator reading docs/reason-codes.md. */
  meaning: string;
}

const LOAN_TYPE_WORDING: Record<string, string> = {
  loans_auto: 'auto loans',
  loans_credit_builder: 'credit-builder loans',
  loans_debt_consolidation: 'debt consolidation loans',
  loans_home_equity: 'home equity loans',
  loans_mortgage: 'mortgage loans',
  loans_payday: 'payday loans',
  loans_personal: 'personal loans',
  loans_student: 'student loans',
  loans_not_specified: 'loans of unspecified type',
};

const CLICKSTREAM_STATEMENTS = Object.fromEntries(
  Array.from({ length: 20 }, (_, index) => [
    `fe_${index + 1}`,
    {
      statement: `Online account activity (indicator ${index + 1})`,
      meaning: `Clickstream feature fe_${index + 1} of the applicant's latest online activity within the lookback`,
    },
  ]),
);

export const REASON_CATALOGUE: Readonly<Record<string, ReasonStatement>> = {
  loan_amt: { statement: 'Amount of credit requested', meaning: 'Loan amount of the application' },
  tenure: { statement: 'Term of the credit requested', meaning: 'Loan tenure in months' },
  Age: { statement: 'Age of applicant', meaning: "Applicant's age at the application date" },
  Occupation: { statement: 'Type of occupation', meaning: "Applicant's occupation (category)" },
  Annual_Income: { statement: 'Level of annual income', meaning: 'Annual income reported' },
  Monthly_Inhand_Salary: { statement: 'Level of monthly take-home pay', meaning: 'Monthly in-hand salary' },
  Num_Bank_Accounts: { statement: 'Number of bank accounts', meaning: 'Bank accounts held' },
  Num_Credit_Card: { statement: 'Number of credit cards', meaning: 'Credit cards held' },
  Interest_Rate: { statement: 'Interest rate on existing credit', meaning: 'Interest rate of existing credit (%)' },
  Num_of_Loan: { statement: 'Number of existing loans', meaning: 'Loans currently held' },
  ...Object.fromEntries(
    Object.entries(LOAN_TYPE_WORDING).map(([feature, wording]) => [
      feature,
      { statement: `Number of ${wording} held`, meaning: `Count of ${wording} among the applicant's loans` },
    ]),
  ),
  Delay_from_due_date: { statement: 'Days payments were made past the due date', meaning: 'Average days of delay from the due date' },
  Num_of_Delayed_Payment: { statement: 'Number of delayed payments', meaning: 'Delayed payments on record' },
  Changed_Credit_Limit: { statement: 'Recent change in credit limit', meaning: 'Change of the credit limit (%)' },
  Num_Credit_Inquiries: { statement: 'Number of recent credit inquiries', meaning: 'Credit inquiries on record' },
  Outstanding_Debt: { statement: 'Amount of outstanding debt', meaning: 'Outstanding debt' },
  Credit_Utilization_Ratio: { statement: 'Proportion of revolving credit in use', meaning: 'Credit utilization ratio (%)' },
  Credit_History_Age_months: { statement: 'Length of credit history', meaning: 'Age of the credit history in months' },
  Total_EMI_per_month: { statement: 'Amount of monthly loan repayments', meaning: 'Total monthly instalments (EMI)' },
  Amount_invested_monthly: { statement: 'Amount invested monthly', meaning: 'Amount invested per month' },
  Monthly_Balance: { statement: 'Monthly balance remaining', meaning: 'Balance left at the end of the month' },
  debt_to_income: { statement: 'Debt relative to income', meaning: 'Outstanding debt / annual income' },
  emi_to_salary: { statement: 'Monthly repayments relative to take-home pay', meaning: 'Total EMI / monthly in-hand salary' },
  invested_to_salary: { statement: 'Monthly investments relative to take-home pay', meaning: 'Amount invested monthly / monthly in-hand salary' },
  balance_to_salary: { statement: 'Monthly balance relative to take-home pay', meaning: 'Monthly balance / monthly in-hand salary' },
  debt_to_monthly_salary: { statement: 'Debt relative to monthly take-home pay', meaning: 'Outstanding debt / monthly in-hand salary' },
  Credit_Mix: { statement: 'Mix of credit types', meaning: 'Credit mix rating (Bad, Standard, Good)' },
  Payment_of_Min_Amount: { statement: 'Payment of only the minimum amount due', meaning: 'Whether only the minimum amount is paid (Yes, No, NM)' },
  spend_level: { statement: 'Level of spending', meaning: 'Spending level from the payment behaviour (Low, High)' },
  value_level: { statement: 'Size of payments', meaning: 'Payment value level from the payment behaviour (Small, Medium, Large)' },
  ...CLICKSTREAM_STATEMENTS,
  clickstream_months_since: { statement: 'Time since last online activity', meaning: 'Months between the latest clickstream row and the application' },
};

/**
 * Said of a reason whose feature had no usable value for the application: a missing number (left missing or imputed
 * by the model), or a category that is missing or one the model was not trained on.
 */
export const MISSING_VALUE_SUFFIX = ' (no usable value on record)';

/** The features of `features` the catalogue has no statement for (what the build-time test checks is empty). */
export function featuresWithoutStatement(features: readonly string[]): string[] {
  return features.filter((feature) => !Object.hasOwn(REASON_CATALOGUE, feature));
}

/**
 * The adverse-action wording of a reason. A feature the catalogue lacks (which the test suite refuses before any
 * release) is stated by its name rather than failing the application it explains.
 */
export function reasonStatement(feature: string, valueMissing = false): string {
  const statement = Object.hasOwn(REASON_CATALOGUE, feature) ? REASON_CATALOGUE[feature].statement : feature;
  return valueMissing ? `${statement}${MISSING_VALUE_SUFFIX}` : statement;
}
