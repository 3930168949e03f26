// Failures of libxgboost, carrying XGBoost's own message (XGBGetLastError) and the C call that failed.

export class XGBoostError extends Error {
  constructor(
    message: string,
    /** The C API function that returned a non-zero code, e.g. 'XGBoosterUpdateOneIter'. */
    readonly call?: string,
  ) {
    super(call ? `${call}: ${message}` : message);
    this.name = 'XGBoostError';
  }
}
