// One onnxruntime session per model per worker process, created once and reused. Every load request still checks
// the sha256 of every artifact against metadata.json first, so an artifact edited after registration is refused
// even when a session for the model is already cached.
import { OnnxScorer } from '../onnx/index.js';
import { loadVerifiedModel, type VerifiedModel } from '../models/bank.js';

export interface ScoringModel {
  model: VerifiedModel;
  scorer: OnnxScorer;
}

const sessions = new Map<string, Promise<OnnxScorer>>();

export async function loadScoringModel(modelBankDir: string, modelId: string): Promise<ScoringModel> {
  const model = await loadVerifiedModel(modelBankDir, modelId);
  const key = `${modelBankDir}\0${modelId}\0${model.metadata.artifacts_sha256['model.onnx']}`;
  let session = sessions.get(key);
  if (!session) {
    session = OnnxScorer.load(model.onnx);
    sessions.set(key, session);
    session.catch(() => sessions.delete(key)); // a failed load is retried on the next request
  }
  return { model, scorer: await session };
}

/** Number of cached sessions (tests check reuse). */
export function cachedSessionCount(): number {
  return sessions.size;
}

/** Releases every cached session (worker shutdown, tests). */
export async function releaseScoringSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const session of all) {
    try {
      await (await session).release();
    } catch {
      // a session that failed to load holds nothing
    }
  }
}
