// A small complete run for the report: five evaluated systems over three test queries with hand-checkable
// paired differences, weak data of both augmentors, curves, a promotion, stage timings and cost records, all in a
// local artifact store.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costKey, generationShardKeys, mergedKeptPairsKey } from '../../../common/artifact-keys.ts';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import type { ReportInput } from '../../../activities/report-activities.ts';
import type { ArtifactRef } from '../../../common/artifact-ref.ts';
import { pipelineConfigSchema } from '../../../common/pipeline-config.ts';
import type { SystemEvaluation } from '../../../common/pipeline-stages.ts';
import type { TrainedRetriever } from '../../../common/retriever-types.ts';
import type { CostRecord } from '../../../lib/report/stage-costs.ts';

export const RUN_ID = 'scifact-run-1';
export const LONG_TEXT = `${'Dense retrieval needs training pairs. '.repeat(12)}END`;

const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** nDCG@10 per query. SPTAR - BM25 = [0.1, 0.2, 0.3]; zero-shot equals SPTAR; InPars is stored in another query order. */
export const PER_QUERY: Record<SystemEvaluation['system'], { queryIds: string[]; ndcg: number[] }> = {
  bm25: { queryIds: ['q1', 'q2', 'q3'], ndcg: [0.4, 0.4, 0.4] },
  'zero-shot': { queryIds: ['q1', 'q2', 'q3'], ndcg: [0.5, 0.6, 0.7] },
  wo: { queryIds: ['q1', 'q2', 'q3'], ndcg: [0.6, 0.4, 0.7] },
  inpars: { queryIds: ['q3', 'q1', 'q2'], ndcg: [0.4, 0.5, 0.6] },
  sptar: { queryIds: ['q1', 'q2', 'q3'], ndcg: [0.5, 0.6, 0.7] },
};

const ref = (key: string): ArtifactRef => ({ key, sha256: '0'.repeat(64), bytes: 0 });

export async function reportFixture(): Promise<{ store: LocalArtifactStore; dir: string; input: ReportInput }> {
  const dir = await mkdtemp(join(tmpdir(), 'sptar-report-'));
  const store = new LocalArtifactStore(join(dir, 'store'));
  const corpus = await store.put(
    'data/corpus.jsonl',
    jsonl([
      { _id: 'd1', title: 'Long', text: LONG_TEXT },
      { _id: 'd2', title: '', text: 'Statins lower cholesterol.' },
      { _id: 'd3', title: 'Markup', text: '<script>alert(1)</script> & "quoted" | piped' },
      { _id: 'd4', title: 'Four', text: 'Vitamin D and bone density.' },
      { _id: 'd5', title: 'Five', text: 'Aspirin and stroke risk.' },
    ]),
  );
  const evaluations: SystemEvaluation[] = [];
  for (const system of ['bm25', 'zero-shot', 'wo', 'inpars', 'sptar'] as const) {
    const pq = PER_QUERY[system];
    const m = mean(pq.ndcg);
    evaluations.push({
      system,
      metrics: { ndcg10: m, map100: m / 2, recall100: 0.9, mrr10: m, queries: 3 },
      run: await store.put(`eval/${system}.run.tsv`, ''),
      perQuery: await store.put(`eval/${system}.per-query.json`, JSON.stringify({ queryIds: pq.queryIds, metrics: { 'ndcg@10': pq.ndcg, 'map@100': pq.ndcg, 'recall@100': pq.ndcg, 'mrr@10': pq.ndcg } })),
    });
  }

  // SPTAR: five generated queries of 1, 2, 3, 5 and 9 words, three kept; InPars-style: two generated, none kept.
  const sptarPrefix = `${RUN_ID}/generate/sptar-abc`;
  await store.put(generationShardKeys(sptarPrefix, 0).queries, jsonl([
    { _id: 'd1', text: 'statins' },
    { _id: 'd2', text: 'statin cholesterol' },
    { _id: 'd3', text: 'is <b>this</b> escaped' },
  ]));
  await store.put(generationShardKeys(sptarPrefix, 1).queries, jsonl([
    { _id: 'd4', text: 'does vitamin d help bones' },
    { _id: 'd5', text: 'what is the effect of aspirin on stroke risk' },
  ]));
  await store.put(generationShardKeys(sptarPrefix, 1).failures, jsonl([{ docId: 'd6', reason: 'empty query' }]));
  const sptarKept = await store.put(mergedKeptPairsKey(sptarPrefix, 3), jsonl([
    { queryId: 'weak-d2', docId: 'd2', query: 'statin cholesterol', rank: 1 },
    { queryId: 'weak-d3', docId: 'd3', query: 'is <b>this</b> escaped', rank: 2 },
    { queryId: 'weak-d5', docId: 'd5', query: 'what is the effect of aspirin on stroke risk', rank: 1 },
  ]));
  const inparsPrefix = `${RUN_ID}/generate/inpars-def`;
  await store.put(generationShardKeys(inparsPrefix, 0).queries, jsonl([{ _id: 'd1', text: 'dense retrieval' }, { _id: 'd2', text: 'cholesterol' }]));
  const inparsKept = await store.put(mergedKeptPairsKey(inparsPrefix, 3), '');

  const softPromptRecord = await store.put(`${RUN_ID}/tune-prompt/soft-prompt.json`, JSON.stringify({
    promptLength: 2, hiddenSize: 4, bestEpoch: 2, bestEvalLoss: 2.7, initialEvalLoss: 3.5, stoppedEarly: false,
    curve: [{ epoch: 0, trainLoss: null, evalLoss: 3.5 }, { epoch: 1, trainLoss: 3.0, evalLoss: 2.9 }, { epoch: 2, trainLoss: 2.5, evalLoss: 2.7 }],
    groups: [[0, 1]],
  }));

  const retriever = (system: TrainedRetriever['system'], scores: number[]): TrainedRetriever => ({
    system,
    encoder: ref(`${RUN_ID}/train/${system}/model.safetensors`),
    encoderConfig: ref(`${RUN_ID}/train/${system}/config.json`),
    curve: scores.map((devScore, epoch) => ({ epoch, trainLoss: epoch === 0 ? null : 1 / epoch, devScore })),
    bestEpoch: scores.indexOf(Math.max(...scores)),
    weakEpochs: 0,
    bestDevScore: Math.max(...scores),
    counts: { labeledPairs: 10, weakPairs: system === 'wo' ? 0 : 3, devQueries: 5 },
  });

  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const costs: CostRecord[] = [
    { activityType: 'prepareData', activityId: '1', workflowId: RUN_ID, attempt: 1, startedAt: t(0), wallSeconds: 1.5, cpuSeconds: 1.2, ok: true },
    { activityType: 'buildBm25Index', activityId: '2', workflowId: RUN_ID, attempt: 1, startedAt: t(2), wallSeconds: 1, cpuSeconds: 2, ok: false },
    { activityType: 'buildBm25Index', activityId: '2', workflowId: RUN_ID, attempt: 2, startedAt: t(3), wallSeconds: 1, cpuSeconds: 2, ok: true },
    { activityType: 'generateShard', activityId: '1', workflowId: `${RUN_ID}/generate-sptar/shard-0`, attempt: 1, startedAt: t(6), wallSeconds: 2, cpuSeconds: 3.5, ok: true },
    { activityType: 'mergeKeptPairs', activityId: '7', workflowId: RUN_ID, attempt: 1, startedAt: t(8), wallSeconds: 0.5, cpuSeconds: 0.3, ok: true },
  ];
  for (const c of costs) await store.put(costKey(c), JSON.stringify(c));
  // An earlier run under the same workflow id, before this run's first stage: not this run's cost.
  const earlier: CostRecord = { activityType: 'prepareData', activityId: '1', workflowId: RUN_ID, attempt: 1, startedAt: new Date(Date.UTC(2025, 11, 31)).toISOString(), wallSeconds: 9, cpuSeconds: 9, ok: true };
  await store.put(costKey(earlier, 'earlier-run'), JSON.stringify(earlier));

  const input: ReportInput = {
    config: pipelineConfigSchema.parse({ runName: 'scifact' }),
    scope: 'scifact',
    runId: RUN_ID,
    prepared: {
      datasetFingerprint: 'fixture',
      corpus,
      queries: await store.put('data/queries.jsonl', ''),
      sTrain: await store.put('data/s_train.tsv', ''),
      sEval: await store.put('data/s_eval.tsv', ''),
      testQrels: await store.put('data/test.tsv', ''),
      unlabeled: { prefix: 'data/unlabeled', count: 2, documents: 5 },
      docHashes: await store.put('data/doc-hashes.tsv', ''),
      rejects: null,
      counts: { documents: 5, queries: 9, sTrainPairs: 2, sEvalQueries: 1, testQueries: 3, unlabeledDocuments: 5, unchangedSinceLastRun: 0, rejectedRows: 0 },
    },
    evaluations,
    artifacts: [],
    weakData: [
      { system: 'sptar', generationWorkflowId: `${RUN_ID}/generate-sptar`, outputPrefix: sptarPrefix, generated: 5, failed: 1, kept: 3, keptPairs: sptarKept },
      { system: 'inpars', generationWorkflowId: `${RUN_ID}/generate-inpars`, outputPrefix: inparsPrefix, generated: 2, failed: 0, kept: 0, keptPairs: inparsKept },
    ],
    retrievers: [retriever('wo', [0.3, 0.35, 0.34]), retriever('inpars', [0.3, 0.36, 0.4]), retriever('sptar', [0.3, 0.38, 0.45])],
    promotion: { promoted: true, candidate: { runId: RUN_ID, system: 'sptar', devScore: 0.45 }, incumbent: { runId: 'scifact-run-0', system: 'sptar', devScore: 0.41 } },
    softPromptRecord,
    timings: [
      { stage: 'prepare', startedAt: t(0), finishedAt: t(2) },
      { stage: 'bm25', startedAt: t(2), finishedAt: t(5) },
      { stage: 'generate-sptar', startedAt: t(5), finishedAt: t(9) },
      { stage: 'report', startedAt: t(9), finishedAt: t(9) },
    ],
  };
  return { store, dir, input };
}

/**
 * Replicate 1 of every trained system and BM25 hybrids of both replicates: test nDCG@10 per query, in each
 * system's stored query order (InPars-style again q3, q1, q2). Every (system, replicate, variant) has its own mean.
 */
export const SEEDED_PER_QUERY: readonly { system: 'wo' | 'inpars' | 'sptar'; replicate: number; denseWeight?: number; ndcg: number[] }[] = [
  { system: 'wo', replicate: 1, ndcg: [0.5, 0.4, 0.5] },
  { system: 'inpars', replicate: 1, ndcg: [0.5, 0.5, 0.6] },
  { system: 'sptar', replicate: 1, ndcg: [0.7, 0.6, 0.8] },
  { system: 'wo', replicate: 0, denseWeight: 0.5, ndcg: [0.6, 0.5, 0.8] },
  { system: 'inpars', replicate: 0, denseWeight: 0.4, ndcg: [0.55, 0.5, 0.6] },
  { system: 'sptar', replicate: 0, denseWeight: 0.6, ndcg: [0.6, 0.65, 0.8] },
  { system: 'wo', replicate: 1, denseWeight: 0.5, ndcg: [0.5, 0.6, 0.9] },
  { system: 'inpars', replicate: 1, denseWeight: 0.6, ndcg: [0.6, 0.55, 0.6] },
  { system: 'sptar', replicate: 1, denseWeight: 0.7, ndcg: [0.7, 0.7, 0.8] },
];

/**
 * Dev nDCG@10 of each trained retriever, dense and fused. Ranked by test nDCG@10 the twelve (system, replicate,
 * variant) rows are in dev order too, except that InPars-style hybrid replicate 1 (test 6th) and SPTAR replicate 0
 * (test 7th) swap: Spearman's rho = 1 - 6 * 2 / (12 * 143) = 1 - 1/143.
 */
export const SEEDED_DEV: Record<'wo' | 'inpars' | 'sptar', readonly { dense: number; hybrid: number }[]> = {
  wo: [{ dense: 0.35, hybrid: 0.38 }, { dense: 0.31, hybrid: 0.39 }],
  inpars: [{ dense: 0.32, hybrid: 0.34 }, { dense: 0.33, hybrid: 0.37 }],
  sptar: [{ dense: 0.36, hybrid: 0.4 }, { dense: 0.41, hybrid: 0.42 }],
};

const DEV_QUERY_IDS = ['dq1', 'dq2', 'dq3', 'dq4'];
/** Four dev queries around the mean; SPTAR replicate 1 scores every dev query alike (a zero-width bootstrap CI). */
const devScores = (mean: number, flat: boolean) => (flat ? [mean, mean, mean, mean] : [mean - 0.1, mean + 0.1, mean - 0.05, mean + 0.05]);

/** What the filters after BM25 kept of each augmentor's pairs, with the copy rates of weak, kept and real queries. */
export const SEEDED_WEAK_FILTERS = {
  sptar: { bm25Kept: 200, afterCopyFilter: 150, afterDenseRoundTrip: 120 },
  inpars: { bm25Kept: 40, afterCopyFilter: 30, afterDenseRoundTrip: 10 },
} as const;
const copyRate = (pairs: number, overlap: number) => ({ pairs, meanOverlap: overlap, meanSpanShare: overlap / 2, spanCopyRate: overlap / 4 });

/**
 * The report fixture trained with retriever.seeds = 2 and retriever.hybrid: two replicates of every trained system,
 * BM25 hybrids of each, per-query dev scores, weak filters after BM25 and a promotion of a hybrid replicate by the
 * paired gate. Replicate 0's dense evaluations are the single-seed fixture's.
 */
export async function seededReportFixture(): Promise<{ store: LocalArtifactStore; dir: string; input: ReportInput }> {
  const base = await reportFixture();
  const { store } = base;
  const evaluations: SystemEvaluation[] = [...base.input.evaluations];
  for (const x of SEEDED_PER_QUERY) {
    const queryIds = PER_QUERY[x.system].queryIds;
    const m = mean(x.ndcg);
    const name = `${x.system}${x.denseWeight === undefined ? '' : '-hybrid'}-r${x.replicate}`;
    evaluations.push({
      system: x.system,
      metrics: { ndcg10: m, map100: m / 2, recall100: 0.9, mrr10: m, queries: 3 },
      run: await store.put(`eval/${name}.run.tsv`, ''),
      perQuery: await store.put(`eval/${name}.per-query.json`, JSON.stringify({ queryIds, metrics: { 'ndcg@10': x.ndcg, 'map@100': x.ndcg, 'recall@100': x.ndcg, 'mrr@10': x.ndcg } })),
      ...(x.replicate > 0 ? { replicate: x.replicate } : {}),
      ...(x.denseWeight === undefined ? {} : { hybrid: { denseWeight: x.denseWeight } }),
    });
  }
  const retrievers: TrainedRetriever[] = [];
  for (const replicate of [0, 1]) {
    for (const system of ['wo', 'inpars', 'sptar'] as const) {
      const dev = SEEDED_DEV[system][replicate]!;
      const flat = system === 'sptar' && replicate === 1;
      const denseWeight = SEEDED_PER_QUERY.find((x) => x.system === system && x.replicate === replicate && x.denseWeight !== undefined)!.denseWeight!;
      const w = system === 'wo' ? undefined : SEEDED_WEAK_FILTERS[system];
      retrievers.push({
        system,
        encoder: ref(`${RUN_ID}/train/${system}-r${replicate}/model.safetensors`),
        encoderConfig: ref(`${RUN_ID}/train/${system}-r${replicate}/config.json`),
        curve: [{ epoch: 0, trainLoss: null, devScore: 0.3 }, { epoch: 1, trainLoss: 1, devScore: dev.dense }],
        bestEpoch: 1,
        bestDevScore: dev.dense,
        weakEpochs: 0,
        counts: { labeledPairs: 10, weakPairs: w ? w.afterDenseRoundTrip : 0, devQueries: 4 },
        ...(replicate > 0 ? { replicate } : {}),
        dev: {
          queryIds: DEV_QUERY_IDS,
          ndcg10: devScores(dev.dense, flat),
          fusion: { denseWeight, devScore: dev.hybrid, ndcg10: devScores(dev.hybrid, flat), grid: [{ weight: denseWeight, score: dev.hybrid }] },
        },
        ...(w ? { weakFilters: { ...w, copyRate: { weak: copyRate(w.bm25Kept, 0.8), kept: copyRate(w.afterDenseRoundTrip, 0.6), labeled: copyRate(25, 0.4) } } } : {}),
      });
    }
  }
  const input: ReportInput = {
    ...base.input,
    config: pipelineConfigSchema.parse({ runName: 'scifact', retriever: { seeds: 2, hybrid: true }, weakFilter: { maxOverlap: 0.8, maxSpanShare: 0.6, denseTopK: 100 } }),
    evaluations,
    retrievers,
    promotion: {
      promoted: true,
      candidate: { runId: RUN_ID, system: 'sptar', devScore: 0.42, replicate: 1, hybrid: { denseWeight: 0.7 } },
      incumbent: { runId: 'scifact-run-0', system: 'sptar', devScore: 0.38 },
      test: { meanDifference: 0.04, p: 0.0312, queries: 4 },
      reason: 'dev nDCG@10 +0.0400 better, paired p = 0.031 < 0.05',
    },
  };
  return { ...base, input };
}
