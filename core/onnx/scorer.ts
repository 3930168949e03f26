// Scores dense matrices with an exported model through onnxruntime-node.
import * as ort from 'onnxruntime-node';
import type { DenseMatrix } from '../xgboost/matrix.js';
import { assertDenseMatrix } from '../xgboost/matrix.js';
import { INPUT_NAME, PROBABILITY_OUTPUT } from './export.js';

/**
 * onnxruntime's pool threads spin between and after kernels by default: with several scoring activities (and DuckDB)
 * sharing the cores, the spinning took more CPU than the scoring itself (a 5,000-row month: about 2.5 × the CPU time
 * at the same speed).
 */
const NO_SPINNING = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };

/**
 * Above 50 rows the tree ensemble gives each intra-op thread a share of the trees and adds the shares' sums, so the
 * thread count changes a tree model's probabilities in their last bits (up to 3.6e-7 between one thread and two, 1.8e-7
 * between two and four). onnxruntime's default is the machine's cores; fixed at 2, what it chose on the 2-core machine
 * the project's predictions come from, a worker gives the same predictions on any machine. More cores serve more
 * activities at once (one slot per core), not one month faster.
 */
export const INTRA_OP_THREADS = 2;

export class OnnxScorer {
  #session: ort.InferenceSession | undefined;
  readonly #inputName: string;
  readonly #outputName: string;

  private constructor(session: ort.InferenceSession) {
    this.#session = session;
    this.#inputName = session.inputNames.includes(INPUT_NAME) ? INPUT_NAME : session.inputNames[0];
    this.#outputName = session.outputNames.includes(PROBABILITY_OUTPUT)
      ? PROBABILITY_OUTPUT
      : session.outputNames[session.outputNames.length - 1];
  }

  static async load(model: Uint8Array, options: ort.InferenceSession.SessionOptions = {}): Promise<OnnxScorer> {
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: INTRA_OP_THREADS,
      extra: NO_SPINNING,
      ...options,
    });
    return new OnnxScorer(session);
  }

  /** Probability of class 1 per row, whatever the probability output's layout ([N, 2], [N, 1] or [N]). */
  async score(matrix: DenseMatrix): Promise<Float32Array> {
    if (!this.#session) throw new Error('the ONNX scorer has been released');
    assertDenseMatrix(matrix);
    if (matrix.rows === 0) return new Float32Array(0);
    const input = new ort.Tensor('float32', matrix.data, [matrix.rows, matrix.cols]);
    const outputs = await this.#session.run({ [this.#inputName]: input }, [this.#outputName]);
    const output = outputs[this.#outputName];
    const data = output.data as Float32Array;
    const columns = output.dims.length === 2 ? Number(output.dims[1]) : 1;
    if (!(data instanceof Float32Array) || data.length !== matrix.rows * columns || columns < 1 || columns > 2) {
      throw new Error(`unexpected ONNX output '${this.#outputName}' of type ${output.type} and shape [${output.dims.join(', ')}]`);
    }
    if (columns === 1) return data;
    const probabilities = new Float32Array(matrix.rows);
    for (let row = 0; row < matrix.rows; row++) probabilities[row] = data[row * 2 + 1];
    return probabilities;
  }

  async release(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.release();
  }
}
