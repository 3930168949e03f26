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
