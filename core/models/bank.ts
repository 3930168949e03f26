// The model bank (SPEC §3): registering a candidate as MODEL_BANK_DIR/<model_id>/ with metadata.json, and loading a
// registered model back with every artifact checked against the sha256 recorded at registration.
import { access, copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { attributionBaselineSchema, modelMetadataSchema, type AttributionBaseline, type ModelCalibration, type ModelMetadata, type OotCalibration } from '../../lib/contracts.js';
import { configVariablesSchema } from '../../lib/config.js';
import { InvalidModelArtifact } from '../../lib/errors.js';
import { modelBank, type ModelArtifact } from '../../lib/layout.js';
import { baselineSchema } from '../statistics/drift.js';
import { xgboostVersion } from '../xgboost/index.js';
import { CANDIDATE_FILES, prepared, readCandidate } from './candidate.js';
import { attributeOnThread } from './candidate-fit-thread.js';
import { loadTrainingSet } from './training-set.js';
import { canonicalJson, sha256File, sha256Hex } from '../hashing.js';
import { publishDirectory } from '../fs-atomic.js';
import { readMetadata } from './metadata.js';

export { readMetadata };
import { preprocessorSchema, rawFeatureNames, type Preprocessor } from '../features/preprocessor.js';
import { readRegistry, recordEvent } from './registry.js';
import type { CandidateSummary, Params, TrainingSetSummary } from '../../lib/model-summaries.js';

/** Artifacts copied from the candidate directory and checksummed in metadata.json. */
export const CHECKSUMMED_ARTIFACTS = ['model.onnx', 'booster.json', 'preprocessor.json', 'feature_importance.csv'] as const satisfies readonly ModelArtifact[];

/** Same training data, family and parameters → same id. The OOT end month is there for people reading ids. */
export function modelIdOf(trainingSet: Pick<TrainingSetSummary, 'trainingDataSha256' | 'windows'>, family: string, params: Params): string {
  const digest = sha256Hex(canonicalJson({ training_data_sha256: trainingSet.trainingDataSha256, family, params })).slice(0, 12);
  return `${family}-${trainingSet.windows.oot.to}-${digest}`;
}

export interface RegisterOptions {
  modelBankDir: string;
  trainingSet: TrainingSetSummary;
  candidate: CandidateSummary;
  workflow: { workflowId: string; runId: string };
  /** Hosmer–Lemeshow alpha the OOT calibration is judged at (CALIBRATION_ALPHA); the configuration's default when absent. */
  calibrationAlpha?: number;
}

const DEFAULT_CALIBRATION_ALPHA = configVariablesSchema.shape.CALIBRATION_ALPHA.parse(undefined);

/** The candidate's OOT calibration judged at `alpha`; absent for candidates written before it was measured. */
function judgedCalibration(calibration: OotCalibration | undefined, alpha: number): ModelCalibration | undefined {
  if (!calibration) return undefined;
  return { ...calibration, calibrated: calibration.hl_p_value !== null && calibration.hl_p_value >= alpha, alpha };
}

/** What registration says of the OOT calibration, in the registry's reason and the training's log. */
export function describeCalibration(calibration: ModelCalibration | undefined): string {
  if (!calibration) return 'OOT calibration not measured';
  const rates = `expected default rate ${(calibration.expected_default_rate * 100).toFixed(1)}%, observed ${(calibration.observed_default_rate * 100).toFixed(1)}%`;
  if (calibration.hl_p_value === null) return `OOT calibration untested (too few OOT loans for Hosmer–Lemeshow; ${rates})`;
  if (calibration.calibrated) return `calibrated on OOT (Hosmer–Lemeshow p ${calibration.hl_p_value.toFixed(3)}, ${rates})`;
  return (
    `MISCALIBRATED on OOT (Hosmer–Lemeshow p ${calibration.hl_p_value.toExponential(2)} < ${calibration.alpha}, ${rates}): ` +
    'its probabilities are not default rates, and estimated performance before labels will be biased; recalibrate'
  );
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/**
 * The attribution baseline of the candidate being registered: computed here, for the one candidate registered, on a
 * fit thread from its booster and the training set's train and OOT splits as its fit saw them (its preprocessor's
 * missing-value policy); a candidate directory from before this (which has attribution.json) gives its own.
 */
async function candidateAttribution(candidateDir: string, trainingSet: TrainingSetSummary): Promise<AttributionBaseline> {
  const stored = await readFile(join(candidateDir, CANDIDATE_FILES.attribution), 'utf8').catch(() => null);
  if (stored !== null) return attributionBaselineSchema.parse(JSON.parse(stored));
  const preprocessor = preprocessorSchema.parse(JSON.parse(await readFile(join(candidateDir, CANDIDATE_FILES.preprocessor), 'utf8')));
  const boosterJson = await readFile(join(candidateDir, CANDIDATE_FILES.booster), 'utf8');
  const { splits } = await loadTrainingSet(trainingSet.path);
  return attributeOnThread({ boosterJson, preprocessor, train: prepared(splits.train, preprocessor), oot: prepared(splits.oot, preprocessor) });
}

export async function registerModel(
  options: RegisterOptions,
): Promise<{ modelId: string; created: boolean; metrics: ModelMetadata['metrics']; family: ModelMetadata['family']; calibration?: string }> {
  const { modelBankDir, trainingSet, workflow } = options;
  // The candidate directory is the source of truth: the summary passed in only points at it.
  const candidate = await readCandidate(options.candidate.candidateDir);
  if (candidate.trainingDataSha256 !== trainingSet.trainingDataSha256) {
    throw new Error(
      `candidate ${candidate.candidateDir} was trained on ${candidate.trainingDataSha256}, not on training set ${trainingSet.trainingDataSha256}`,
    );
  }
  const modelId = modelIdOf(trainingSet, candidate.family, candidate.params);
  const dir = modelBank.dir(modelBankDir, modelId);
  let created = false;
  if (!(await exists(modelBank.file(modelBankDir, modelId, 'metadata.json')))) {
    created = await publishDirectory(dir, async (staging) => {
      const artifacts: Record<string, string> = {};
      for (const name of CHECKSUMMED_ARTIFACTS) {
        await copyFile(join(candidate.candidateDir, name), join(staging, name));
        artifacts[name] = await sha256File(join(staging, name));
      }
      const preprocessor = preprocessorSchema.parse(JSON.parse(await readFile(join(staging, 'preprocessor.json'), 'utf8')));
      const baseline = baselineSchema.parse(JSON.parse(await readFile(join(candidate.candidateDir, CANDIDATE_FILES.baseline), 'utf8')));
      const attribution = await candidateAttribution(candidate.candidateDir, trainingSet);
      const metadata: ModelMetadata = modelMetadataSchema.parse({
        model_id: modelId,
        family: candidate.family,
        params: candidate.params,
        features: rawFeatureNames(preprocessor),
        as_of: trainingSet.asOf,
        windows: trainingSet.windows,
        metrics: candidate.metrics,
        threshold: candidate.threshold,
        baseline,
        data_baseline: trainingSet.dataBaseline,
        calibration: judgedCalibration(candidate.calibration, options.calibrationAlpha ?? DEFAULT_CALIBRATION_ALPHA),
        attribution,
        training_data_sha256: trainingSet.trainingDataSha256,
        training_lineage: trainingSet.goldLineage,
        feature_schema_sha256: trainingSet.featureSchemaSha256,
        artifacts_sha256: artifacts,
        xgboost_version: xgboostVersion(),
        created_at: new Date().toISOString(),
        workflow,
      });
      await writeFile(join(staging, 'metadata.json'), JSON.stringify(metadata, null, 2));
    });
  }
  const metadata = await readMetadata(modelBankDir, modelId);
  const registry = await readRegistry(modelBankDir);
  if (!registry.history.some((event) => event.model_id === modelId)) {
    await recordEvent(
      modelBankDir,
      modelId,
      'candidate',
      `registered by ${workflow.workflowId} (OOT AUC ${metadata.metrics.oot_auc.toFixed(4)}; ${describeCalibration(metadata.calibration)})`,
    );
  }
  return { modelId, created, metrics: metadata.metrics, family: metadata.family, calibration: describeCalibration(metadata.calibration) };
}

export interface VerifiedModel {
  modelId: string;
  metadata: ModelMetadata;
  preprocessor: Preprocessor;
  onnx: Uint8Array;
  boosterJson: string;
}

/**
 * Loads a registered model, refusing it (InvalidModelArtifact, naming the file) when any artifact's sha256 differs
 * from metadata.json. The bytes checked are the bytes used: nothing is read twice.
 */
export async function loadVerifiedModel(modelBankDir: string, modelId: string): Promise<VerifiedModel> {
  const metadata = await readMetadata(modelBankDir, modelId);
  const contents = new Map<string, Buffer>();
  for (const name of CHECKSUMMED_ARTIFACTS) {
    const path = modelBank.file(modelBankDir, modelId, name);
    const expected = metadata.artifacts_sha256[name];
    if (!expected) throw new InvalidModelArtifact(`${path}: metadata.json of model '${modelId}' records no sha256 for ${name}`);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new InvalidModelArtifact(`${path}: artifact of model '${modelId}' is unreadable (${(error as Error).message})`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== expected) {
      throw new InvalidModelArtifact(
        `${path}: sha256 ${actual} does not match ${expected} recorded in metadata.json: the artifact changed after registration; refusing to load model '${modelId}'`,
      );
    }
    contents.set(name, bytes);
  }
  const preprocessorPath = modelBank.file(modelBankDir, modelId, 'preprocessor.json');
  const preprocessor = preprocessorSchema.safeParse(JSON.parse(contents.get('preprocessor.json')!.toString('utf8')));
  if (!preprocessor.success) throw new InvalidModelArtifact(`${preprocessorPath}: invalid preprocessor: ${z.prettifyError(preprocessor.error)}`);
  const onnxBytes = contents.get('model.onnx')!;
  return {
    modelId,
    metadata,
    preprocessor: preprocessor.data,
    onnx: new Uint8Array(onnxBytes.buffer, onnxBytes.byteOffset, onnxBytes.byteLength),
    boosterJson: contents.get('booster.json')!.toString('utf8'),
  };
}

/** Every registered model directory with a valid metadata.json (others are skipped). */
export async function listRegisteredModels(modelBankDir: string): Promise<ModelMetadata[]> {
  const entries = await readdir(modelBankDir, { withFileTypes: true }).catch(() => []);
  const models: ModelMetadata[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('_') || entry.name.endsWith('.tmp')) continue;
    try {
      models.push(await readMetadata(modelBankDir, entry.name));
    } catch {
      // not a model directory (or a broken one): listing skips it, loading it by id reports why
    }
  }
  return models.sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
}
