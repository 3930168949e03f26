// One application's score and reasons (`npm run explain`): from gold/explanations and gold/predictions when the month
// was scored by the model, otherwise computed now from the feature store with the same model, the same way.
import { join } from 'node:path';
import { InvalidInput } from '../../lib/errors.js';
import { datamart, partitionFile } from '../../lib/layout.js';
import { reasonStatement } from '../../lib/reason-codes.js';
import { queryRows, readParquet, sqlString, withDuckDB } from '../duckdb.js';
import { exists } from '../files.js';
import { encodeRows, type FeatureRow } from '../features/preprocessor.js';
import { readRegistry } from '../models/registry.js';
import { loadScoringModel } from './model-loader.js';
import { predictedDefault, riskBand } from './risk-bands.js';
import { scoreMatrix } from './score-rows.js';
import { contributionsOf, explainMatrix, missingMaskOfRows, REASON_COUNT, topReasons, type Reason } from '../explain/contributions.js';

export interface ApplicationExplanation {
  loan_id: string;
  application_month: string;
  model_id: string;
  /** Where the reasons come from: the gold partitions, or computed now because the month has none for the model. */
  source: 'gold' | 'computed';
  default_probability: number;
  predicted_default: 0 | 1;
  risk_band: string;
  threshold: number;
  bias: number;
  reasons: Reason[];
  contributions: Record<string, number>;
  /** The observed outcome when the loan's label has matured (SPEC §2 label store), else null. */
  label: { dpd: number; label: 0 | 1; label_month: string } | null;
}

const monthOf = (date: unknown) => String(date).slice(0, 7);

async function productionModel(modelBankDir: string): Promise<string> {
  const { production } = await readRegistry(modelBankDir);
  if (!production) throw new InvalidInput(`no production model in ${modelBankDir}/registry.json: give --model ID`);
  return production;
}

export async function explainApplication(options: { datamartDir: string; modelBankDir: string; loanId: string; modelId?: string }): Promise<ApplicationExplanation> {
  const { datamartDir, modelBankDir, loanId } = options;
  const modelId = options.modelId ?? (await productionModel(modelBankDir));
  const loaded = await loadScoringModel(modelBankDir, modelId);
  const { preprocessor, metadata } = loaded.model;
  const featureGlob = join(datamart.featureStore(datamartDir), '*', 'data.parquet');
  return withDuckDB(async (db) => {
    const features = await queryRows<FeatureRow>(
      db,
      `SELECT * REPLACE (CAST(loan_id AS VARCHAR) AS loan_id, CAST(snapshot_date AS VARCHAR) AS snapshot_date)
       FROM ${readParquet(featureGlob)} WHERE CAST(loan_id AS VARCHAR) = ${sqlString(loanId)}`,
    ).catch((error: Error) => {
      throw new InvalidInput(`cannot read the feature store under ${datamart.featureStore(datamartDir)}: ${error.message}`);
    });
    if (features.length === 0) throw new InvalidInput(`loan '${loanId}' is not in the feature store (${datamart.featureStore(datamartDir)})`);
    const row = features[0];
    const month = monthOf(row.snapshot_date);
    const labelGlob = join(datamart.labelStore(datamartDir), '*', 'data.parquet');
    const labels = await queryRows<{ dpd: number; label: number; snapshot_date: string }>(
      db,
      `SELECT dpd, label, CAST(snapshot_date AS VARCHAR) AS snapshot_date FROM ${readParquet(labelGlob)} WHERE CAST(loan_id AS VARCHAR) = ${sqlString(loanId)}`,
    ).catch(() => []);
    const label = labels[0] ? { dpd: Number(labels[0].dpd), label: Number(labels[0].label) as 0 | 1, label_month: monthOf(labels[0].snapshot_date) } : null;
    const base = { loan_id: loanId, application_month: month, model_id: modelId, threshold: metadata.threshold, label };

    const goldFile = partitionFile(datamart.explanations(datamartDir, modelId), month);
    const predictionFile = partitionFile(datamart.predictions(datamartDir, modelId), month);
    if ((await exists(goldFile)) && (await exists(predictionFile))) {
      const [gold] = await queryRows(
        db,
        `SELECT e.*, CAST(e.contributions AS VARCHAR) AS contributions_json, p.default_probability, p.predicted_default, p.risk_band
         FROM ${readParquet(goldFile)} AS e JOIN ${readParquet(predictionFile)} AS p USING (loan_id)
         WHERE e.loan_id = ${sqlString(loanId)}`,
      );
      if (gold) {
        const missing = new Set(gold.missing_features as string[]);
        const reasons: Reason[] = [];
        for (let k = 1; k <= REASON_COUNT; k++) {
          const feature = gold[`reason_${k}`] as string | null;
          if (feature === null) continue;
          reasons.push({ feature, contribution: gold[`contribution_${k}`] as number, statement: reasonStatement(feature, missing.has(feature)), value_missing: missing.has(feature) });
        }
        return {
          ...base,
          source: 'gold',
          default_probability: gold.default_probability as number,
          predicted_default: Number(gold.predicted_default) as 0 | 1,
          risk_band: gold.risk_band as string,
          bias: gold.bias as number,
          reasons,
          contributions: JSON.parse(gold.contributions_json as string) as Record<string, number>,
        };
      }
    }

    const matrix = encodeRows(preprocessor, [row]);
    const [probability] = await scoreMatrix(loaded.scorer, matrix);
    const explanations = await explainMatrix(loaded.booster(), preprocessor, matrix, missingMaskOfRows(preprocessor, [row]));
    return {
      ...base,
      source: 'computed',
      default_probability: probability,
      predicted_default: predictedDefault(probability, metadata.threshold),
      risk_band: riskBand(probability, metadata.threshold),
      bias: explanations.bias[0],
      reasons: topReasons(explanations, 0),
      contributions: contributionsOf(explanations, 0),
    };
  });
}
