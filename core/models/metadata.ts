// The one reader of a registered model's metadata.json (the model bank, the gate, scoring and monitoring all use it):
// zod-validated, and the id it records must be the id asked for.
import { readFile } from 'node:fs/promises';
import { modelMetadataSchema, type ModelMetadata } from '../../lib/contracts.js';
import { InvalidModelArtifact } from '../../lib/errors.js';
import { modelBank } from '../../lib/layout.js';

/** metadata.json of a registered model, validated; a missing or invalid file is an InvalidModelArtifact. */
export async function readMetadata(modelBankDir: string, modelId: string): Promise<ModelMetadata> {
  const path = modelBank.file(modelBankDir, modelId, 'metadata.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InvalidModelArtifact(`${path}: cannot read the metadata of model '${modelId}' (${(error as Error).message})`);
  }
  const parsed = modelMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InvalidModelArtifact(`${path}: invalid metadata: ${problems.slice(0, 5).join('; ')}`);
  }
  if (parsed.data.model_id !== modelId) throw new InvalidModelArtifact(`${path}: metadata names model '${parsed.data.model_id}', not '${modelId}'`);
  return parsed.data;
}
