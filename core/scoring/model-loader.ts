// One onnxruntime session per model per worker process, created once and reused. Every load request checks the
// artifacts against metadata.json: their sha256 is recomputed whenever a file's identity (inode, size, modification
// and change times, to the nanosecond) differs from the one verified last, so an artifact edited after registration
// is refused even when a session for the model is cached; an untouched model costs five stat calls, not a re-hash.
import { modelBank } from '../../lib/layout.js';
import { fileIdentity } from '../file-identity.js';
import { OnnxScorer } from '../onnx/index.js';
import { Booster } from '../xgboost/index.js';
import { CHECKSUMMED_ARTIFACTS, loadVerifiedModel, type VerifiedModel } from '../models/bank.js';

export interface ScoringModel {
  model: VerifiedModel;
  scorer: OnnxScorer;
  /**
   * The native booster of the same model (its verified booster.json), loaded on first use: what explanations'
   * contributions come from (libxgboost's TreeSHAP), for batch and API alike.
   */
  booster: () => Booster;
}

const sessions = new Map<string, Promise<OnnxScorer>>();
const boosters = new Map<string, Booster>();

function boosterOf(model: VerifiedModel, key: string): Booster {
  let booster = boosters.get(key);
  if (!booster || booster.disposed) {
    booster = Booster.fromJson(model.boosterJson);
    boosters.set(key, booster);
  }
  return booster;
}
const verified = new Map<string, { identity: string; model: VerifiedModel }>();

/** Inode, size, mtime and ctime (ns) of metadata.json and every checksummed artifact: any write changes it. */
async function artifactsIdentity(modelBankDir: string, modelId: string): Promise<string | null> {
  try {
    const files = (['metadata.json', ...CHECKSUMMED_ARTIFACTS] as const).map((name) => modelBank.file(modelBankDir, modelId, name));
    return (await Promise.all(files.map(fileIdentity))).join('|');
  } catch {
    return null; // a missing file: loadVerifiedModel names it
  }
}

async function verifiedModel(modelBankDir: string, modelId: string): Promise<VerifiedModel> {
  const key = `${modelBankDir}\0${modelId}`;
  const identity = await artifactsIdentity(modelBankDir, modelId);
  const cached = verified.get(key);
  if (identity !== null && cached?.identity === identity) return cached.model;
  verified.delete(key);
  const model = await loadVerifiedModel(modelBankDir, modelId);
  // Only when nothing changed while it was read and hashed.
  if (identity !== null && (await artifactsIdentity(modelBankDir, modelId)) === identity) verified.set(key, { identity, model });
  return model;
}

export async function loadScoringModel(modelBankDir: string, modelId: string): Promise<ScoringModel> {
  const model = await verifiedModel(modelBankDir, modelId);
  const key = `${modelBankDir}\0${modelId}\0${model.metadata.artifacts_sha256['model.onnx']}`;
  let session = sessions.get(key);
  if (!session) {
    session = OnnxScorer.load(model.onnx);
    sessions.set(key, session);
    session.catch(() => sessions.delete(key)); // a failed load is retried on the next request
  }
  const boosterKey = `${modelBankDir}\0${modelId}\0${model.metadata.artifacts_sha256['booster.json']}`;
  return { model, scorer: await session, booster: () => boosterOf(model, boosterKey) };
}

/**
 * Starts opening the model's session in the background, so the first scoring activity after it on this worker finds it
 * ready instead of creating it (tens of milliseconds of onnxruntime while the other months' activities wait for the
 * cores). A failure is left to the activity that loads the model next, which reports it (a failed load is not cached).
 */
export function preloadScoringModel(modelBankDir: string, modelId: string | null): void {
  if (modelId) loadScoringModel(modelBankDir, modelId).catch(() => undefined);
}

/** Number of cached sessions (tests check reuse). */
export function cachedSessionCount(): number {
  return sessions.size;
}

/** Releases every cached session (worker shutdown, tests). */
export async function releaseScoringSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  verified.clear();
  for (const booster of boosters.values()) booster.dispose();
  boosters.clear();
  for (const session of all) {
    try {
      await (await session).release();
    } catch {
      // a session that failed to load holds nothing
    }
  }
}
