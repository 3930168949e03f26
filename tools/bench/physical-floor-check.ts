// Keeps the physical floor honest: it must produce what the pipeline produced from the same sources, or its times
// are not a floor of the same job. Compared: the label and feature rows (count and content hash over every column),
// each family's test and OOT AUC, and, where both chose the same family, the AUC of every labelled month.
import { join } from 'node:path';
import type { ModelFamily } from '../../lib/contracts.js';
import { datamart } from '../../lib/layout.js';
import { queryRows, readParquet, withDuckDB } from '../../core/duckdb.js';
import { FEATURE_STORE_COLUMNS, fingerprintSql, LABEL_COLUMNS, type PhysicalFloorResult, type TableFingerprint } from './physical-floor.js';

/** AUCs further apart than this mean the floor did not train (or score) the same thing. */
export const AUC_TOLERANCE = 0.01;

export interface PipelineOutputs {
  datamartDir: string;
  /** The pipeline's candidates (the training result's). */
  candidates: Array<{ family: string; testAuc: number; ootAuc: number }>;
  /** The registered model: its family, and its monitoring table's per-month AUC. */
  modelId: string | null;
}

export interface FloorCheck {
  ok: boolean;
  labels: { pipeline: TableFingerprint; floor: TableFingerprint; same: boolean };
  features: { pipeline: TableFingerprint; floor: TableFingerprint; same: boolean };
  /** Largest |pipeline − floor| over the families' test and OOT AUCs, and over the months' AUCs (same family only). */
  maxFamilyAucDifference: number;
  maxMonthAucDifference: number | null;
  problems: string[];
}

/** Fingerprints of the pipeline's gold label and feature stores (every partition). */
export async function goldFingerprints(datamartDir: string): Promise<{ labels: TableFingerprint; features: TableFingerprint }> {
  return withDuckDB(async (db) => {
    const of = async (table: string, columns: readonly string[]) => {
      const [row] = await queryRows<{ rows: number; md5: string }>(db, fingerprintSql(readParquet(join(table, '*', 'data.parquet')), columns));
      return { rows: Number(row.rows), md5: row.md5 };
    };
    return { labels: await of(datamart.labelStore(datamartDir), LABEL_COLUMNS), features: await of(datamart.featureStore(datamartDir), FEATURE_STORE_COLUMNS) };
  });
}

async function monthAucs(datamartDir: string, modelId: string): Promise<Map<string, number>> {
  const file = datamart.monitoring(datamartDir, modelId);
  const rows = await withDuckDB((db) =>
    queryRows<{ month: string; auc: number | null }>(db, `SELECT strftime(CAST(snapshot_date AS DATE), '%Y-%m') AS month, auc FROM ${readParquet(file)}`),
  );
  return new Map(rows.flatMap((row) => (row.auc === null ? [] : [[row.month, Number(row.auc)] as const])));
}

export async function checkAgainstPipeline(floor: PhysicalFloorResult, pipeline: PipelineOutputs): Promise<FloorCheck> {
  const gold = await goldFingerprints(pipeline.datamartDir);
  const problems: string[] = [];
  const same = (what: 'labels' | 'features') => {
    const equal = gold[what].rows === floor[what].rows && gold[what].md5 === floor[what].md5;
    if (!equal) problems.push(`${what}: pipeline ${gold[what].rows} rows (${gold[what].md5}), floor ${floor[what].rows} rows (${floor[what].md5})`);
    return equal;
  };
  const labels = { pipeline: gold.labels, floor: floor.labels, same: same('labels') };
  const features = { pipeline: gold.features, floor: floor.features, same: same('features') };

  let maxFamilyAucDifference = 0;
  for (const candidate of pipeline.candidates) {
    const ours = floor.families[candidate.family as ModelFamily];
    if (!ours) {
      problems.push(`family ${candidate.family}: not trained by the floor`);
      continue;
    }
    for (const [what, theirs, mine] of [['test', candidate.testAuc, ours.testAuc], ['OOT', candidate.ootAuc, ours.ootAuc]] as const) {
      const difference = Math.abs(theirs - mine);
      maxFamilyAucDifference = Math.max(maxFamilyAucDifference, difference);
      if (!(difference <= AUC_TOLERANCE)) problems.push(`${candidate.family} ${what} AUC: pipeline ${theirs.toFixed(4)}, floor ${mine.toFixed(4)}`);
    }
  }
  if (pipeline.candidates.length === 0) problems.push('the pipeline trained no candidate to compare with');

  let maxMonthAucDifference: number | null = null;
  const pipelineFamily = pipeline.modelId?.split('-')[0];
  if (pipeline.modelId && pipelineFamily === floor.chosen) {
    const theirs = await monthAucs(pipeline.datamartDir, pipeline.modelId);
    for (const month of floor.monitoring) {
      const pipelineAuc = theirs.get(month.month);
      if (pipelineAuc === undefined || month.auc === null) {
        if ((pipelineAuc === undefined) !== (month.auc === null)) problems.push(`${month.month}: AUC on one side only`);
        continue;
      }
      const difference = Math.abs(pipelineAuc - month.auc);
      maxMonthAucDifference = Math.max(maxMonthAucDifference ?? 0, difference);
      if (!(difference <= AUC_TOLERANCE)) problems.push(`${month.month} AUC: pipeline ${pipelineAuc.toFixed(4)}, floor ${month.auc.toFixed(4)}`);
    }
  }
  return { ok: problems.length === 0, labels, features, maxFamilyAucDifference, maxMonthAucDifference, problems };
}
