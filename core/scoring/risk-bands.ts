// Risk bands of a default probability, relative to the model's decision threshold: High is exactly the predicted
// defaults, Medium the half-threshold zone below them, Low the rest. Pure.
import type { RISK_BANDS } from '../../lib/contracts.js';

export type RiskBand = (typeof RISK_BANDS)[number];

/** Share of the threshold where Medium starts. */
export const MEDIUM_FROM_SHARE_OF_THRESHOLD = 0.5;

export function predictedDefault(probability: number, threshold: number): 0 | 1 {
  return probability >= threshold ? 1 : 0;
}

export function riskBand(probability: number, threshold: number): RiskBand {
  if (probability >= threshold) return 'High';
  if (probability >= threshold * MEDIUM_FROM_SHARE_OF_THRESHOLD) return 'Medium';
  return 'Low';
}

/** predictedDefault and riskBand as SQL over a DOUBLE expression: the same comparisons on the same doubles. */
export function riskColumnsSql(probability: string, threshold: number): { predictedDefault: string; riskBand: string } {
  // Through a string so DuckDB parses the exact double, not a DECIMAL literal.
  const at = `CAST('${threshold}' AS DOUBLE)`;
  return {
    predictedDefault: `CASE WHEN ${probability} >= ${at} THEN 1 ELSE 0 END`,
    riskBand: `CASE WHEN ${probability} >= ${at} THEN 'High' WHEN ${probability} >= ${at} * ${MEDIUM_FROM_SHARE_OF_THRESHOLD} THEN 'Medium' ELSE 'Low' END`,
  };
}
