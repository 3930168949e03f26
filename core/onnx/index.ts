// ONNX export of XGBoost binary:logistic models and scoring through onnxruntime-node.
export { exportToOnnx, INPUT_NAME, PROBABILITY_OUTPUT, LABEL_OUTPUT } from './export.js';
export { OnnxScorer } from './scorer.js';
export { parseBoosterJson, baseMargin, type ParsedBooster } from './booster-json.js';
