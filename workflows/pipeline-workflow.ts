import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineActivities } from '../activities/pipeline-activities.ts';
import { parsePipelineConfig, type PipelineConfig } from '../common/pipeline-config.ts';
import type { PipelineProgress, PreparedData, Stage, SystemEvaluation } from '../common/pipeline-stages.ts';
import { SPTAR_CONFIG_HASH, SPTAR_DATASET, SPTAR_PROGRESS, SPTAR_STAGE } from '../common/search-attributes.ts';
import { fnv1a } from '../common/fnv1a.ts';
import { IO_LONG, IO_SHORT, ML_LONG } from './activity-profiles.ts';

export const progressQuery = defineQuery<PipelineProgress>('progress');

export interface PipelineResult {
  readonly prepared: PreparedData;
  readonly evaluations: readonly SystemEvaluation[];
  readonly reportKey: string;
}

const io = proxyActivities<PipelineActivities>(IO_SHORT);
const ioLong = proxyActivities<PipelineActivities>(IO_LONG);
const ml = proxyActivities<PipelineActivities>(ML_LONG);

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

  const info = workflowInfo();
  // Finished stages are reused across runs of the same name unless the config says otherwise.
  const scope = config.reuseArtifacts ? config.runName : `${config.runName}/${info.workflowId.replace(/[^A-Za-z0-9._=-]/g, '-')}`;

  enter('prepare');
  const prepared = await ioLong.prepareData({ config, scope });

  enter('evaluate');
  const bm25Index = await ml.buildBm25Index({ config, scope, prepared });
  evaluations.push(await ml.evaluateBm25({ config, scope, prepared, index: bm25Index }));

  enter('report');
  const report = await io.writeReport({ config, scope, runId: info.workflowId, prepared, evaluations, artifacts: [bm25Index] });
  reportKey = report.markdown.key;
  upsertMemo({ report: `${report.location}/${report.markdown.key}`, reportKey: report.markdown.key });

  enter('done');
  return { prepared, evaluations, reportKey };
}
