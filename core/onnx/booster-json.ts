// The parts of XGBoost 1.7's native JSON model that the ONNX export reads, validated with zod so that a
// malformed or unsupported model is refused with a message naming what is wrong.
import { z } from 'zod';
import { InvalidModelArtifact } from '../../lib/errors.js';

const numeric = z.union([z.number(), z.string()]).transform((value, context) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) {
    context.addIssue({ code: 'custom', message: `expected a number, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parsed;
});

const treeSchema = z.object({
  left_children: z.array(z.number().int()),
  right_children: z.array(z.number().int()),
  split_indices: z.array(z.number().int().nonnegative()),
  split_conditions: z.array(z.number()),
  default_left: z.array(z.union([z.number(), z.boolean()])),
  split_type: z.array(z.number().int()).optional(),
});

const boosterJsonSchema = z.object({
  learner: z.object({
    learner_model_param: z.object({ base_score: numeric, num_feature: numeric, num_class: numeric.optional() }),
    objective: z.object({ name: z.string() }),
    gradient_booster: z.object({ name: z.string() }).passthrough(),
  }),
});

const gbtreeModelSchema = z.object({
  model: z.object({ trees: z.array(treeSchema).min(1), tree_info: z.array(z.number().int()) }),
});
const gblinearModelSchema = z.object({ model: z.object({ weights: z.array(numeric) }) });

export type XGBoostTree = z.infer<typeof treeSchema>;

export type ParsedBooster =
  | { kind: 'trees'; baseScore: number; numFeature: number; trees: XGBoostTree[] }
  | { kind: 'linear'; baseScore: number; numFeature: number; coefficients: number[]; bias: number };

function refuse(problem: string): never {
  throw new InvalidModelArtifact(`booster JSON: ${problem}`);
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    refuse(`${[where, ...issue.path].join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Parses a binary:logistic model (gbtree, including random forests, or gblinear). */
export function parseBoosterJson(json: string): ParsedBooster {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    refuse(`not JSON (${(error as Error).message})`);
  }
  const { learner } = parseWith(boosterJsonSchema, raw, '');
  const objective = learner.objective.name;
  if (objective !== 'binary:logistic') refuse(`objective '${objective}' is not supported, only binary:logistic`);
  if ((learner.learner_model_param.num_class ?? 0) > 1) refuse('multi-class models are not supported');
  const baseScore = learner.learner_model_param.base_score;
  if (!(baseScore > 0 && baseScore < 1)) refuse(`base_score ${baseScore} is not a probability in (0, 1)`);
  const numFeature = learner.learner_model_param.num_feature;
  const booster = learner.gradient_booster;

  if (booster.name === 'gbtree') {
    const { model } = parseWith(gbtreeModelSchema, booster, 'learner.gradient_booster');
    model.trees.forEach((tree, index) => checkTree(tree, index, numFeature));
    if (model.tree_info.some((group) => group !== 0)) refuse('trees for more than one output group');
    return { kind: 'trees', baseScore, numFeature, trees: model.trees };
  }
  if (booster.name === 'gblinear') {
    const { model } = parseWith(gblinearModelSchema, booster, 'learner.gradient_booster');
    // One output group: F coefficients then the bias.
    if (model.weights.length !== numFeature + 1) {
      refuse(`gblinear has ${model.weights.length} weights, expected num_feature + 1 = ${numFeature + 1}`);
    }
    return { kind: 'linear', baseScore, numFeature, coefficients: model.weights.slice(0, numFeature), bias: model.weights[numFeature] };
  }
  return refuse(`gradient booster '${booster.name}' is not supported (gbtree, gblinear)`);
}

function checkTree(tree: XGBoostTree, index: number, numFeature: number): void {
  const n = tree.left_children.length;
  const where = `tree ${index}`;
  for (const [name, array] of Object.entries({
    right_children: tree.right_children,
    split_indices: tree.split_indices,
    split_conditions: tree.split_conditions,
    default_left: tree.default_left,
  })) {
    if (array.length !== n) refuse(`${where}: ${name} has ${array.length} entries, left_children has ${n}`);
  }
  if (tree.split_type?.some((type) => type !== 0)) refuse(`${where}: categorical splits are not supported`);
  for (let node = 0; node < n; node++) {
    const left = tree.left_children[node];
    const right = tree.right_children[node];
    if (left === -1) continue;
    if (left <= node || right <= node || left >= n || right >= n) refuse(`${where}: node ${node} has invalid children ${left}, ${right}`);
    if (tree.split_indices[node] >= numFeature) {
      refuse(`${where}: node ${node} splits on feature ${tree.split_indices[node]} of ${numFeature}`);
    }
  }
}

/** logit(p) in float32, as XGBoost's ProbToMargin computes the base margin of binary:logistic. */
export function baseMargin(baseScore: number): number {
  const p = Math.fround(baseScore);
  return Math.fround(-Math.log(Math.fround(1 / p - 1)));
}
