// Converts XGBoost's native JSON model (binary:logistic) into an ONNX ModelProto built with onnx-proto:
// trees (gbtree, rf) → ai.onnx.ml TreeEnsembleClassifier; gblinear → Imputer(NaN → 0) + LinearClassifier.
// Both output 'probabilities' [N, 2] whose column 1 is what XGBoost predicts.
import onnxProto from 'onnx-proto';
import { InvalidModelArtifact } from '../../lib/errors.js';
import { baseMargin, parseBoosterJson, type XGBoostTree } from './booster-json.js';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
const AttributeType = onnx.AttributeProto.AttributeType;

export const INPUT_NAME = 'features';
export const LABEL_OUTPUT = 'label';
export const PROBABILITY_OUTPUT = 'probabilities';
const ML_DOMAIN = 'ai.onnx.ml';
// ai.onnx.ml opset 3 has TreeEnsembleClassifier (v3), LinearClassifier and Imputer (v1); IR 8 pairs with opset 17.
const ML_OPSET = 3;
const ONNX_OPSET = 17;
const IR_VERSION = 8;

const floats = (name: string, values: number[]): IAttributeProto => ({ name, type: AttributeType.FLOATS, floats: values });
const ints = (name: string, values: number[]): IAttributeProto => ({ name, type: AttributeType.INTS, ints: values });
const float = (name: string, value: number): IAttributeProto => ({ name, type: AttributeType.FLOAT, f: value });
const text = (name: string, value: string): IAttributeProto => ({ name, type: AttributeType.STRING, s: Buffer.from(value) });
const texts = (name: string, values: string[]): IAttributeProto => ({
  name,
  type: AttributeType.STRINGS,
  strings: values.map((value) => Buffer.from(value)),
});

/** Serialized ONNX ModelProto equivalent to the booster: input 'features' float [N, F], output 'probabilities'. */
export function exportToOnnx(boosterJson: string, featureNames: string[]): Uint8Array {
  const model = parseBoosterJson(boosterJson);
  if (featureNames.length !== model.numFeature) {
    throw new InvalidModelArtifact(`booster JSON has ${model.numFeature} features, ${featureNames.length} feature names were given`);
  }
  const margin = baseMargin(model.baseScore);
  const nodes: INodeProto[] = [];
  if (model.kind === 'trees') {
    nodes.push(treeEnsembleNode(model.trees, margin));
  } else {
    // gblinear skips missing entries (they contribute 0): replace NaN by 0 before the linear model.
    nodes.push({
      opType: 'Imputer',
      domain: ML_DOMAIN,
      name: 'missing_as_zero',
      input: [INPUT_NAME],
      output: ['imputed'],
      attribute: [floats('imputed_value_floats', [0]), float('replaced_value_float', Number.NaN)],
    });
    nodes.push({
      opType: 'LinearClassifier',
      domain: ML_DOMAIN,
      name: 'gblinear',
      input: ['imputed'],
      output: [LABEL_OUTPUT, PROBABILITY_OUTPUT],
      attribute: [
        floats('coefficients', model.coefficients),
        // XGBoost adds bias and base margin in float32: do the same so the ONNX intercept is bit-identical.
        floats('intercepts', [Math.fround(Math.fround(model.bias) + margin)]),
        ints('classlabels_ints', [0, 1]),
        text('post_transform', 'LOGISTIC'),
      ],
    });
  }

  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'credit-pipeline',
    producerVersion: '1',
    opsetImport: [
      { domain: '', version: ONNX_OPSET },
      { domain: ML_DOMAIN, version: ML_OPSET },
    ],
    metadataProps: [
      { key: 'feature_names', value: JSON.stringify(featureNames) },
      { key: 'xgboost_booster', value: model.kind === 'trees' ? 'gbtree' : 'gblinear' },
    ],
    graph: {
      name: 'xgboost_binary_logistic',
      node: nodes,
      input: [tensorInfo(INPUT_NAME, onnx.TensorProto.DataType.FLOAT, ['N', featureNames.length])],
      output: [
        tensorInfo(LABEL_OUTPUT, onnx.TensorProto.DataType.INT64, ['N']),
        tensorInfo(PROBABILITY_OUTPUT, onnx.TensorProto.DataType.FLOAT, ['N', 2]),
      ],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

function tensorInfo(name: string, elemType: number, shape: Array<string | number>): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) },
      },
    },
  };
}

/**
 * One TreeEnsembleClassifier over every tree. XGBoost sends x < threshold to the left ('yes') child, so nodes are
 * BRANCH_LT with the left child as the true branch; a missing value follows default_left. Leaves vote for class
 * id 0 only: with two class labels onnxruntime treats the single score as the margin of class 1 and, with
 * LOGISTIC, returns [1 - p, p] where p = sigmoid(base + Σ leaves), as XGBoost does.
 */
function treeEnsembleNode(trees: XGBoostTree[], margin: number): INodeProto {
  const nodeTree: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTracksTrue: number[] = [];
  const classTree: number[] = [];
  const classNode: number[] = [];
  const classWeights: number[] = [];

  trees.forEach((tree, treeId) => {
    for (let node = 0; node < tree.left_children.length; node++) {
      const leaf = tree.left_children[node] === -1;
      nodeTree.push(treeId);
      nodeIds.push(node);
      if (leaf) {
        featureIds.push(0);
        modes.push('LEAF');
        values.push(0);
        trueIds.push(0);
        falseIds.push(0);
        missingTracksTrue.push(0);
        classTree.push(treeId);
        classNode.push(node);
        classWeights.push(tree.split_conditions[node]);
      } else {
        featureIds.push(tree.split_indices[node]);
        modes.push('BRANCH_LT');
        values.push(tree.split_conditions[node]);
        trueIds.push(tree.left_children[node]);
        falseIds.push(tree.right_children[node]);
        missingTracksTrue.push(Number(tree.default_left[node]) ? 1 : 0);
      }
    }
  });

  return {
    opType: 'TreeEnsembleClassifier',
    domain: ML_DOMAIN,
    name: 'xgboost_trees',
    input: [INPUT_NAME],
    output: [LABEL_OUTPUT, PROBABILITY_OUTPUT],
    attribute: [
      ints('nodes_treeids', nodeTree),
      ints('nodes_nodeids', nodeIds),
      ints('nodes_featureids', featureIds),
      texts('nodes_modes', modes),
      floats('nodes_values', values),
      ints('nodes_truenodeids', trueIds),
      ints('nodes_falsenodeids', falseIds),
      ints('nodes_missing_value_tracks_true', missingTracksTrue),
      ints('class_treeids', classTree),
      ints('class_nodeids', classNode),
      ints('class_ids', classTree.map(() => 0)),
      floats('class_weights', classWeights),
      ints('classlabels_int64s', [0, 1]),
      floats('base_values', [margin]),
      text('post_transform', 'LOGISTIC'),
    ],
  };
}
