import {
  ApplicationFailure,
  defineQuery,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineActivities } from '../activities/pipeline-activities.ts';
import { generationPrefix, runScope, stageScopes } from '../common/artifact-keys.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { fnv1a } from '../common/fnv1a.ts';
import { generationSettings, shardOrderSettings, type GenerationSettings } from '../common/generation-types.ts';
import { parsePipelineConfig, type PipelineConfig } from '../common/pipeline-config.ts';
import type { LastSuccess, PipelineProgress, PreparedData, PromotionDecision, Stage, StageTasks, StageTiming, SystemEvaluation, WeakDataSummary } from '../common/pipeline-stages.ts';
import type { RetrieverSystem, TrainedRetriever } from '../common/retriever-types.ts';
import { SPTAR_CONFIG_HASH, SPTAR_DATASET, SPTAR_PROGRESS, SPTAR_STAGE } from '../common/search-attributes.ts';
import { stageConfigs } from '../common/stage-configs.ts';
import type { GateDecision, ServedCandidate } from '../lib/sptar/promotion-gate.ts';
import { IO_LONG, IO_SHORT, modelActivityOptions } from './activity-profiles.ts';
import { generateWeakQueriesWorkflow, generationWaitingSignal } from './generation-workflow.ts';

export const progressQuery = defineQuery<PipelineProgress>('progress');

export interface PipelineResult {
  readonly prepared: PreparedData;
  readonly evaluations: readonly SystemEvaluation[];
  readonly weakData: readonly WeakDataSummary[];
  readonly retrievers: readonly TrainedRetriever[];
  readonly promotion: PromotionDecision | null;
  readonly reportKey: string;
  /** report.html beside the Markdown report (absent in results of runs whose report stage wrote none). */
  readonly reportHtmlKey?: string;
}

const io = proxyActivities<PipelineActivities>(IO_SHORT);
const ioLong = proxyActivities<PipelineActivities>(IO_LONG);

/**
 * The SPTAR pipeline. Takes one JSON object (so the UI's Start Workflow form can launch it) and validates it as
 * its first step: an invalid config fails at once, non-retryable, listing every problem.
 */
export async function sptarPipeline(input: unknown): Promise<PipelineResult> {
  const parsed = parsePipelineConfig(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(parsed.message, 'ConfigError');
  const config: PipelineConfig = parsed.config;
  // Each stage gets the slice of the config it reads, derived here once.
  const slices = stageConfigs(config);
  // Model activities are noticed dead after the configured heartbeat timeout (graph builds and model loads on a
  // busy worker can take minutes); shards use the same setting.
  const heartbeatTimeoutSeconds = config.generation.heartbeatTimeoutSeconds;
  const ml = proxyActivities<PipelineActivities>(modelActivityOptions(heartbeatTimeoutSeconds));
  const info = workflowInfo();

  const startedAt = new Date().toISOString();
  const stagesDone: Stage[] = [];
  let stage: Stage = 'validate';
  const evaluations: SystemEvaluation[] = [];
  const weakData: WeakDataSummary[] = [];
  let reportKey: string | undefined;
  let reportHtmlKey: string | undefined;
  let stageTasks: StageTasks | undefined;
  // The stages of this run, decided below (the query may come before).
  let plan: Stage[] = [];
  let generationWorkflowId: string | undefined;
  let softPromptRecord: ArtifactRef | undefined;
  let promptTuning: PipelineProgress['promptTuning'];
  let exampleGroupLosses: number[] | undefined;
  const retrievers: TrainedRetriever[] = [];
  let promotion: PromotionDecision | null = null;
  // The retriever the promotion gate would serve (its encoder is what a promoted run records).
  let served: TrainedRetriever | undefined;
  const timings: StageTiming[] = [];
  const refiltered: { system: 'sptar' | 'inpars'; ref: ArtifactRef }[] = [];
  let stageStartedAt = startedAt;
  let waitingForOperator: PipelineProgress['waitingForOperator'];
  setHandler(progressQuery, () => ({
    stage,
    ...(waitingForOperator ? { waitingForOperator } : {}),
    plan: [...plan],
    ...(stageTasks ? { stageTasks } : {}),
    stagesDone: [...stagesDone],
    timings: [...timings],
    startedAt,
    evaluations: [...evaluations],
    weakData: [...weakData],
    ...(generationWorkflowId ? { generationWorkflowId } : {}),
    ...(promptTuning ? { promptTuning } : {}),
    ...(exampleGroupLosses ? { exampleGroupLosses } : {}),
    ...(retrievers.length > 0 ? { retrievers: retrievers.map((r) => ({ system: r.system, bestEpoch: r.bestEpoch, bestDevScore: r.bestDevScore })) } : {}),
    ...(promotion ? { promotion } : {}),
    ...(reportKey ? { reportKey } : {}),
    ...(reportHtmlKey ? { reportHtmlKey } : {}),
  }));

  // Executions started before the LLM stages existed replay without them (see README: changing workflow code).
  const withLlm = config.augment && patched('sptar-llm-stages');
  // Executions started before retriever training existed replay without it.
  const withRetrievers = config.retriever.enabled && patched('sptar-retriever-stages');
  // Executions started before SptarProgress moved inside a stage replay without the extra upserts.
  const liveStageProgress = patched('sptar-stage-task-progress');
  plan = [
    'prepare',
    'bm25',
    ...(withLlm ? (['tune-prompt', 'filter-examples', 'generate-sptar', 'generate-inpars'] as const) : []),
    ...(withRetrievers ? (['train-retrievers', 'evaluate'] as const) : []),
    'report',
  ];
  const enter = (next: Stage): void => {
    const now = new Date().toISOString();
    if (stage !== 'validate') {
      stagesDone.push(stage);
      timings.push({ stage, startedAt: stageStartedAt, finishedAt: now });
    }
    stageStartedAt = now;
    stage = next;
    stageTasks = undefined;
    upsertSearchAttributes([
      { key: SPTAR_STAGE, value: next },
      { key: SPTAR_PROGRESS, value: Math.min(1, stagesDone.length / plan.length) },
    ]);
  };
  /** Counts a finished activity of a stage that runs several; SptarProgress then includes the stage's done share. */
  const taskDone = <T>(result: T): T => {
    if (stageTasks) stageTasks = { ...stageTasks, done: stageTasks.done + 1 };
    if (liveStageProgress && stageTasks) {
      upsertSearchAttributes([{ key: SPTAR_PROGRESS, value: Math.min(1, (stagesDone.length + stageTasks.done / stageTasks.total) / plan.length) }]);
    }
    return result;
  };
  // A generation child that holds failed shards for an operator says so; the run's stage shows it in the UI's list.
  setHandler(generationWaitingSignal, (w) => {
    waitingForOperator = w.waiting ? { generationWorkflowId: w.workflowId, shardsFailed: [...w.shardsFailed] } : undefined;
    upsertSearchAttributes([{ key: SPTAR_STAGE, value: w.waiting ? `${stage}:waiting-for-operator` : stage }]);
  });
  upsertSearchAttributes([
    { key: SPTAR_DATASET, value: config.dataset.name },
    { key: SPTAR_CONFIG_HASH, value: fnv1a(JSON.stringify(input ?? {})) },
  ]);
  upsertMemo({
    config: `${config.dataset.name}: X=${config.splits.trainPairs} Y=${config.splits.evalQueries} l=${config.promptTuning.promptLength} k=${config.weakFilter.topK}`,
  });

  // Executions started before failed shards were recorded went on at once and recorded every document as done.
  const recordsFailedShards = patched('failed-shards-recorded');
  // Finished stages are reused across runs of the same name unless the config says otherwise.
  const scope = runScope(config.runName, config.reuseArtifacts, info.workflowId);

  enter('prepare');
  // Incremental runs (nightly schedules) augment only documents new or changed since the last successful run.
  const previous = config.mode === 'incremental' ? await io.findLastSuccess({ runName: config.runName }) : null;
  const prepared = await ioLong.prepareData({ config: slices.prepare, scope, previous });

  enter('bm25');
  const bm25Index = await ml.buildBm25Index({ config: slices.bm25, scope, prepared });
  evaluations.push(await ml.evaluateBm25({ scope, prepared, index: bm25Index }));
  const artifacts: ArtifactRef[] = [bm25Index];
  // What this run records as done for the next incremental run.
  let doneDocHashes = prepared.docHashes;

  if (withLlm) {
    enter('tune-prompt');
    const tuned = await ml.tunePrompt({ config: slices.promptTuning, scope, prepared });
    promptTuning = { bestEpoch: tuned.bestEpoch, initialEvalLoss: tuned.initialEvalLoss, bestEvalLoss: tuned.bestEvalLoss, record: tuned.record };
    artifacts.push(tuned.prompt, tuned.record);
    softPromptRecord = tuned.record;

    enter('filter-examples');
    // Every candidate group is independent: scored in parallel, one activity each.
    stageTasks = { unit: 'groups', done: 0, total: tuned.groups.length };
    const scored = await Promise.all(tuned.groups.map((group) => ml.scoreExampleGroup({ config: slices.exampleGroup, scope, prepared, prompt: tuned.prompt, group }).then(taskDone)));
    exampleGroupLosses = scored.map((s) => s.loss);
    let best = 0;
    scored.forEach((s, i) => {
      if (s.loss < scored[best]!.loss) best = i;
    });
    const examples = scored[best]!.examples;

    const generateFor = async (system: 'sptar' | 'inpars', softPrompt: ArtifactRef | null, ex: GenerationSettings['examples']): Promise<void> => {
      // Executions started before length-sorted batches keep shard order, and with it their stage key and parts.
      const settings = generationSettings(config, softPrompt, ex);
      const shared = patched('generation-length-sorted-batches') ? settings : shardOrderSettings(settings);
      // Executions started before generation had a stage scope keep their fnv1a-named output prefix.
      const outputPrefix = patched('generation-stage-scope')
        ? generationPrefix(stageScopes.generate(scope, system, shared, prepared.unlabeled), system)
        : `${scope}/generate/${system}-${fnv1a(JSON.stringify({ shared, unlabeled: prepared.unlabeled }))}`;
      generationWorkflowId = `${info.workflowId}/generate-${system}`;
      const result = await executeChild(generateWeakQueriesWorkflow, {
        workflowId: generationWorkflowId,
        args: [
          {
            shards: prepared.unlabeled,
            task: { outputPrefix, shared, filter: { index: bm25Index, topK: config.weakFilter.topK } },
            maxConcurrentShards: config.generation.maxConcurrentShards,
            onShardFailure: recordsFailedShards && config.generation.onShardFailure === 'wait' ? 'wait' : 'continue',
            heartbeatTimeoutSeconds,
          },
        ],
      });
      const merged = await ml.mergeKeptPairs({ outputPrefix, topK: config.weakFilter.topK, shards: prepared.unlabeled.count });
      const shardsFailed = recordsFailedShards && result.shardsFailed.length > 0 ? { shardsFailed: [...result.shardsFailed] } : {};
      weakData.push({ system, generationWorkflowId, outputPrefix, generated: result.generated, failed: result.failedDocuments, kept: merged.kept, keptPairs: merged.keptPairs, ...shardsFailed });
      artifacts.push(merged.keptPairs);
      generationWorkflowId = undefined;
    };

    enter('generate-sptar');
    await generateFor('sptar', tuned.prompt, examples);
    enter('generate-inpars');
    await generateFor('inpars', null, 'inpars');

    // Documents of shards left failed got no weak query: counted per system, and left out of what this run
    // records as done, so the next incremental run generates them.
    const failedShards = [...new Set(weakData.flatMap((w) => w.shardsFailed ?? []))].sort((a, b) => a - b);
    if (failedShards.length > 0) {
      const undone = await io.excludeUndoneDocuments({ prepared, failedShards });
      doneDocHashes = undone.docHashes;
      for (const [i, w] of weakData.entries()) {
        if (w.shardsFailed) weakData[i] = { ...w, documentsMissing: w.shardsFailed.reduce((n, s) => n + (undone.documents[s] ?? 0), 0) };
      }
    }

    // Incremental runs: the earlier runs' kept pairs go through the filter again with this run's index (the corpus
    // may have grown) and join this run's, newest first, so a re-augmented document keeps only its new queries.
    if (previous && previous.keptPairs.length > 0 && patched('refilter-earlier-weak-pairs')) {
      for (const system of ['sptar', 'inpars'] as const) {
        const earlier = previous.keptPairs.filter((p) => p.system === system).map((p) => p.ref);
        if (earlier.length === 0) continue;
        const again = await ml.refilterWeakPairs({ scope, index: bm25Index, topK: config.weakFilter.topK, pairs: earlier, replaced: prepared.unlabeled });
        refiltered.push({ system, ref: again.keptPairs });
        artifacts.push(again.keptPairs);
      }
    }
  }

  if (withRetrievers) {
    enter('train-retrievers');
    const weakPairsFor = (system: 'sptar' | 'inpars'): ArtifactRef[] => [
      ...weakData.filter((w) => w.system === system).map((w) => w.keptPairs),
      ...refiltered.filter((p) => p.system === system).map((p) => p.ref),
    ];
    const systems: RetrieverSystem[] = withLlm ? ['wo', 'inpars', 'sptar'] : ['wo'];
    const r = config.retriever;
    // Replicates 1.. (retriever.seeds) follow replicate 0 of every system, so one seed schedules what it always did.
    const replicates = Array.from({ length: r.seeds }, (_, i) => i);
    const readsIndex = r.hardNegatives > 0 || r.hybrid || (r.devCandidates !== null && r.devCorpusSize !== null);
    stageTasks = { unit: 'retrievers', done: 0, total: systems.length * replicates.length };
    // Independent trainings: scheduled together, run as model workers free up.
    retrievers.push(
      ...(await Promise.all(
        replicates.flatMap((replicate) =>
          systems.map((system) =>
            ml
              .trainRetriever({
                config: slices.retriever,
                scope,
                prepared,
                system,
                weakPairs: system === 'wo' ? [] : weakPairsFor(system),
                ...(replicate > 0 ? { replicate } : {}),
                ...(readsIndex ? { index: bm25Index } : {}),
              })
              .then(taskDone),
          ),
        ),
      )),
    );
    for (const t of retrievers) artifacts.push(t.encoder, t.encoderConfig);

    enter('evaluate');
    const fused = retrievers.filter((t) => t.dev?.fusion !== undefined);
    stageTasks = { unit: 'systems', done: 0, total: 1 + retrievers.length + fused.length };
    const dense = await Promise.all([
      ml.evaluateDense({ config: slices.denseEvaluation, scope, prepared, system: 'zero-shot' }).then(taskDone),
      ...retrievers.map((t) =>
        ml.evaluateDense({ config: slices.denseEvaluation, scope, prepared, system: t.system, encoder: t.encoder }).then((e) => taskDone(t.replicate ? { ...e, replicate: t.replicate } : e)),
      ),
    ]);
    evaluations.push(...dense);
    // Hybrids: BM25's test run fused with each retriever's at the weight its dev queries chose.
    const bm25Evaluation = evaluations.find((e) => e.system === 'bm25')!;
    evaluations.push(
      ...(await Promise.all(
        fused.map((t) =>
          ml
            .evaluateHybrid({ scope, prepared, bm25: bm25Evaluation, dense: dense[1 + retrievers.indexOf(t)]!, denseWeight: t.dev!.fusion!.denseWeight })
            .then(taskDone),
        ),
      )),
    );

    // Promotion gate: the candidate system's best retriever on dev (any replicate, dense or hybrid) replaces the one
    // in service only on a significant dev gain (paired test on the same dev queries).
    const candidateSystem = retrievers.at(-1)!.system;
    const incumbent = previous?.promoted ?? null;
    // Executions started before the paired gate compared the dev means of the last system's first retriever.
    const { candidate, decision } = patched('promotion-paired-test')
      ? await io.decidePromotion({ trained: retrievers.filter((t) => t.system === candidateSystem), incumbent, seed: config.seed, alpha: 0.05 })
      : rawGate(retrievers.at(-1)!, incumbent);
    served = retrievers.find((t) => t.system === candidate.system && (t.replicate ?? 0) === candidate.replicate);
    // A run with documents that got no weak query is incomplete: it does not replace what is served unless allowed.
    const missing = weakData.reduce((n, w) => n + (w.documentsMissing ?? 0), 0);
    const incomplete = recordsFailedShards && missing > 0 && !config.promotion.allowMissingShards && decision.promoted;
    promotion = {
      promoted: decision.promoted && !incomplete,
      candidate: {
        runId: info.workflowId,
        system: candidate.system,
        devScore: candidate.devScore,
        ...(candidate.replicate > 0 ? { replicate: candidate.replicate } : {}),
        ...(candidate.hybrid ? { hybrid: candidate.hybrid } : {}),
      },
      incumbent: incumbent && { runId: incumbent.runId, system: incumbent.system, devScore: incumbent.devScore, ...(incumbent.hybrid ? { hybrid: incumbent.hybrid } : {}) },
      test: decision.test,
      reason: incomplete
        ? `not promoted: ${missing} document(s) of failed generation shards have no weak query (${decision.reason}; promotion.allowMissingShards = true lets such a run be promoted)`
        : decision.reason,
    };
  }

  enter('report');
  const report = await io.writeReport({
    config,
    scope,
    runId: info.workflowId,
    prepared,
    evaluations,
    artifacts,
    weakData,
    retrievers,
    promotion,
    softPromptRecord: softPromptRecord ?? null,
    timings: [...timings],
  });
  reportKey = report.markdown.key;
  reportHtmlKey = report.html?.key;
  upsertMemo({ report: `${report.location}/${report.html?.key ?? report.markdown.key}`, reportKey: report.markdown.key });

  if (patched('record-last-success')) {
    const candidate = served;
    const promoted: LastSuccess['promoted'] =
      promotion?.promoted && candidate
        ? {
            runId: info.workflowId,
            system: candidate.system,
            encoder: candidate.encoder,
            encoderConfig: candidate.encoderConfig,
            devScore: promotion.candidate.devScore,
            ...(promotion.candidate.hybrid ? { hybrid: promotion.candidate.hybrid } : {}),
            ...(candidate.dev ? { dev: { queryIds: candidate.dev.queryIds, ndcg10: promotion.candidate.hybrid ? candidate.dev.fusion!.ndcg10 : candidate.dev.ndcg10 } } : {}),
          }
        : previous?.promoted;
    await io.recordSuccess({
      runName: config.runName,
      pointer: {
        runId: info.workflowId,
        finishedAt: new Date().toISOString(),
        docHashes: doneDocHashes,
        keptPairs: [
          ...weakData.map((w) => ({ system: w.system, ref: w.keptPairs })),
          // Without augmentation this run adds nothing and the earlier pairs carry over as they were.
          ...(withLlm ? refiltered : (previous?.keptPairs ?? [])),
        ],
        ...(promoted ? { promoted } : {}),
      },
    });
  }

  enter('done');
  // Report results recorded before the HTML report existed have none.
  const html: ArtifactRef | undefined = report.html;
  return { prepared, evaluations, weakData, retrievers, promotion, reportKey, ...(html ? { reportHtmlKey: html.key } : {}) };
}

/** The gate of executions started before the paired test: the candidate's dev mean against the incumbent's. */
function rawGate(t: TrainedRetriever, incumbent: LastSuccess['promoted'] | null): { candidate: ServedCandidate; decision: GateDecision } {
  const promoted = incumbent == null || t.bestDevScore >= incumbent.devScore;
  return { candidate: { system: t.system, replicate: t.replicate ?? 0, devScore: t.bestDevScore }, decision: { promoted, test: null, reason: promoted ? 'dev mean not worse' : 'dev mean worse' } };
}
