// Bad scoring requests built from a real application of the sample: each must be refused with 400 naming the field.
import type { RawApplication } from '../../core/serving/request.js';
import { OVERFLOWING_NUMBER } from './mutations.js';

export interface ApiMutation {
  name: string;
  /** The field the 400 must name. */
  field: RegExp;
  edit: (application: RawApplication, other: RawApplication) => RawApplication;
}

const withMonth = (application: RawApplication, date: string): RawApplication => ({
  ...application,
  loan: { ...application.loan, snapshot_date: date, loan_start_date: date },
  attributes: application.attributes && { ...application.attributes, snapshot_date: date },
  financials: application.financials && { ...application.financials, snapshot_date: date },
  clickstream: [],
});

export const API_MUTATION_CLASSES: ApiMutation[] = [
  {
    name: "financials record of another customer",
    field: /financials\.Customer_ID: not the application's Customer_ID/,
    edit: (application, other) => ({ ...application, financials: other.financials }),
  },
  {
    name: 'clickstream row of another customer',
    field: /clickstream\.0\.Customer_ID: not the application's Customer_ID/,
    edit: (application, other) => ({ ...application, clickstream: [{ ...application.clickstream[0], Customer_ID: other.loan.Customer_ID }] }),
  },
  {
    name: 'application dated 2099-01',
    field: /loan\.snapshot_date: month 2099-01 is outside/,
    edit: (application) => withMonth(application, '2099-01-01'),
  },
  {
    name: 'application dated 0001-01',
    field: /loan\.snapshot_date: month 0001-01 is outside/,
    edit: (application) => withMonth(application, '0001-01-01'),
  },
  {
    name: 'overflowing number (400 digits) in clickstream fe_1',
    field: /clickstream\.0\.fe_1: not a finite number/,
    edit: (application) => ({ ...application, clickstream: [{ ...application.clickstream[0], fe_1: OVERFLOWING_NUMBER }] }),
  },
  {
    name: 'overflowing number in financials Annual_Income',
    field: /financials\.Annual_Income: not a finite number/,
    edit: (application) => ({ ...application, financials: application.financials && { ...application.financials, Annual_Income: OVERFLOWING_NUMBER } }),
  },
];
