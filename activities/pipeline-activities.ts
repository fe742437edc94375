import type { ArtifactRef } from '../common/artifact-ref.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import type { PreparedData, SystemEvaluation } from '../common/pipeline-stages.ts';

/** The pipeline's activities as the workflow sees them: typed inputs, small plain-JSON results. */
export interface PipelineActivities {
  prepareData(input: { config: PipelineConfig }): Promise<PreparedData>;
  evaluateBm25(input: { config: PipelineConfig; prepared: PreparedData }): Promise<SystemEvaluation>;
  writeReport(input: {
    config: PipelineConfig;
    prepared: PreparedData;
    evaluations: readonly SystemEvaluation[];
  }): Promise<{ location: string; markdown: ArtifactRef }>;
}
