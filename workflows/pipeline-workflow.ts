import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PipelineActivities } from '../activities/pipeline-activities.ts';
import { parsePipelineConfig, type PipelineConfig } from '../common/pipeline-config.ts';
import type { PipelineProgress, PreparedData, Stage, SystemEvaluation } from '../common/pipeline-stages.ts';
import { SPTAR_CONFIG_HASH, SPTAR_DATASET, SPTAR_PROGRESS, SPTAR_STAGE } from '../common/search-attributes.ts';
import { fnv1a } from '../common/fnv1a.ts';
import { IO_SHORT } from './activity-profiles.ts';

export const progressQuery = defineQuery<PipelineProgress>('progress');

export interface PipelineResult {
  readonly prepared: PreparedData;
  readonly evaluations: readonly SystemEvaluation[];
  readonly reportKey: string;
}

const io = proxyActivities<PipelineActivities>(IO_SHORT);

/**
 * The SPTAR pipeline. Takes one JSON object (so the UI's Start Workflow form can launch it) and validates it as
 * its first step: an invalid config fails at once, non-retryable, listing every problem.
 */
export async function sptarPipeline(input: unknown): Promise<PipelineResult> {
  const parsed = parsePipelineConfig(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.message, 'ConfigError');
  const config: PipelineConfig = parsed.config;

  const startedAt = new Date().toISOString();
  const stagesDone: Stage[] = [];
  let stage: Stage = 'validate';
  const evaluations: SystemEvaluation[] = [];
  let reportKey: string | undefined;
  setHandler(progressQuery, () => ({ stage, stagesDone: [...stagesDone], startedAt, evaluations: [...evaluations], ...(reportKey ? { reportKey } : {}) }));

  const plan: Stage[] = ['prepare', 'evaluate', 'report'];
  const enter = (next: Stage): void => {
    if (stage !== 'validate') stagesDone.push(stage);
    stage = next;
    upsertSearchAttributes([
      { key: SPTAR_STAGE, value: next },
      { key: SPTAR_PROGRESS, value: stagesDone.length / plan.length },
    ]);
  };
  upsertSearchAttributes([
    { key: SPTAR_DATASET, value: config.dataset.name },
    { key: SPTAR_CONFIG_HASH, value: fnv1a(JSON.stringify(input ?? {})) },
  ]);
  upsertMemo({
    config: `${config.dataset.name}: X=${config.splits.trainPairs} Y=${config.splits.evalQueries} l=${config.promptTuning.promptLength} k=${config.weakFilter.topK}`,
  });

  enter('prepare');
  const prepared = await io.prepareData({ config });

  enter('evaluate');
  evaluations.push(await io.evaluateBm25({ config, prepared }));

  enter('report');
  const report = await io.writeReport({ config, prepared, evaluations });
  reportKey = report.markdown.key;
  upsertMemo({ report: `${report.location}/${report.markdown.key}` });

  enter('done');
  return { prepared, evaluations, reportKey };
}
