// Undoing the class weighting on the probability scale. Training with scale_pos_weight = w multiplies the model's
// odds by w; subtracting ln(w) from the margin gives back default probabilities. The shift is folded into the
// booster's base_score, so the native model, its ONNX export and every score agree without extra code at inference.

export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

// Edited in the text: a JSON.parse/stringify round trip would turn floats such as 1.0 into integers, which
// libxgboost's loader refuses.
const BASE_SCORE = /"base_score"\s*:\s*"([^"]*)"/g;

/** The booster JSON with its base score moved by `marginShift` on the logit scale. */
export function shiftBaseMargin(boosterJson: string, marginShift: number): string {
  const matches = [...boosterJson.matchAll(BASE_SCORE)];
  if (matches.length !== 1) throw new Error(`expected one base_score in the booster JSON, found ${matches.length}`);
  const current = Number(matches[0][1]);
  if (!(current > 0 && current < 1)) throw new Error(`booster base_score ${matches[0][1]} is not a probability: not a binary:logistic model?`);
  const shifted = sigmoid(logit(current) + marginShift).toExponential(8).toUpperCase();
  return boosterJson.replace(BASE_SCORE, `"base_score":"${shifted}"`);
}
