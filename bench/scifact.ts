// The real pipeline on SciFact through Temporal, with SmolLM2-135M-Instruct and all-MiniLM-L6-v2, as a benchmark:
// starts (or re-attaches to) one run, follows it, and writes machine-readable results (quality of every system and
// variant pooled over training replicates with CIs, SPTAR's pooled paired tests, dev CIs and dev-test agreement, the
// weak filters, retriever curves, per-stage wall and CPU time, throughput) to bench/results/scifact.json and the
// run's report beside it. Workers must be running (infra/run-bench-scifact.sh starts them with the services).
//
//   npm run bench:scifact [-- --config configs/scifact-bench.json] [--unlabeled N] [--out bench/results/scifact.json]
//
// The workflow id is derived from the config, so running the same command again re-attaches to a run that is still
// going (or was interrupted with the services) instead of starting over; finished stages are reused either way.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { readPerQueryNdcg } from '../lib/report/per-query-scores.ts';
import { readCostRecords } from '../lib/report/cost-records.ts';
import { poolResults, replicateOf, variantKey, type PooledComparison } from '../lib/report/pooled-results.ts';
import { createArtifactStore } from '../lib/artifact-store/index.ts';
import { softPromptRecordSchema } from '../common/prompt-tuning-types.ts';
import { generationShardKeys } from '../common/artifact-keys.ts';
import { fnv1a } from '../common/fnv1a.ts';
import type { GenerationProgress } from '../common/generation-types.ts';
import { parsePipelineConfig } from '../common/pipeline-config.ts';
import type { PipelineProgress, StageTiming } from '../common/pipeline-stages.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';
import type { PipelineResult } from '../workflows/pipeline-workflow.ts';
import { loadSettings } from '../workers/settings.ts';
import { connectClient } from '../workers/temporal-connection.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/scifact-bench.json' },
    unlabeled: { type: 'string' },
    out: { type: 'string', default: 'bench/results/scifact.json' },
  },
});

const raw = JSON.parse(await readFile(resolve(values.config), 'utf8')) as Record<string, unknown> & { splits?: Record<string, unknown> };
if (values.unlabeled !== undefined) raw.splits = { ...raw.splits, unlabeledLimit: values.unlabeled === 'all' ? null : Number(values.unlabeled) };
const parsed = parsePipelineConfig(raw);
if (!parsed.ok) throw new Error(`${values.config}: ${parsed.message}`);
const config = parsed.config;
const workflowId = `${config.runName}-${fnv1a(JSON.stringify(raw))}`;

const settings = loadSettings();
const connection = await connectClient(settings);
const client = new Client({ connection, namespace: settings.namespace });
const store = createArtifactStore(settings.store);

let handle = client.workflow.getHandle(workflowId);
try {
  handle = await client.workflow.start('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId, args: [raw] });
  console.log(`started ${workflowId}`);
} catch (err) {
  if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  console.log(`re-attached to ${workflowId}`);
}
console.log(`  UI: ${settings.uiUrl}/namespaces/${settings.namespace}/workflows/${encodeURIComponent(workflowId)}`);

const started = Date.now();
const follow = setInterval(() => {
  void (async () => {
    const p = await handle.query<PipelineProgress>('progress');
    let detail = '';
    if (p.generationWorkflowId) {
      const g = await client.workflow.getHandle(p.generationWorkflowId).query<GenerationProgress>('generationProgress');
      detail = ` shards ${g.shardsDone}/${g.shardsTotal} (${g.shardsFailed.length} failed), ${g.documentsPerSecond.toFixed(3)} docs/s, ETA ${g.etaSeconds === null ? '?' : `${Math.round(g.etaSeconds / 60)} min`}`;
    }
    console.log(`  [${((Date.now() - started) / 60_000).toFixed(1)} min] ${p.stage}${detail}`);
  })().catch(() => undefined);
}, 60_000);

let result: PipelineResult;
try {
  result = (await handle.result()) as PipelineResult;
} finally {
  clearInterval(follow);
}
const progress = await handle.query<PipelineProgress>('progress').catch(() => null);
const description = await handle.describe();

// Per-stage wall time from the workflow; CPU-seconds from the cost records the workers store per activity.
const timings: readonly StageTiming[] = progress?.timings ?? [];
// A workflow id started again after it closed is a new run under the same id: only this run's attempts count.
const { records: costs, problems: costProblems } = await readCostRecords(store, workflowId, { since: description.startTime.toISOString() });
if (costProblems.length > 0) throw new Error(`unreadable cost records:\n${costProblems.join('\n')}`);
const byActivity: Record<string, { count: number; wallSeconds: number; cpuSeconds: number }> = {};
for (const c of costs) {
  const a = (byActivity[c.activityType] ??= { count: 0, wallSeconds: 0, cpuSeconds: 0 });
  a.count++;
  a.wallSeconds += c.wallSeconds;
  a.cpuSeconds += c.cpuSeconds;
}
const cpuSeconds = costs.reduce((s, c) => s + c.cpuSeconds, 0);
const wallSeconds = (description.closeTime!.getTime() - description.startTime.getTime()) / 1000;
const unlabeled = result.prepared.counts.unlabeledDocuments;

// The report's figures, machine-readable: per system and variant its replicates, their mean and a t-CI of nDCG@10;
// SPTAR's paired tests on per-query nDCG@10 averaged over replicates (dense and hybrid); dev CIs; the weak filters.
const perQuery = await readPerQueryNdcg(store, result.evaluations);
const pooled = poolResults({
  evaluated: result.evaluations.map((evaluation, i) => ({ evaluation, queryIds: perQuery[i]!.queryIds, scores: perQuery[i]!.scores })),
  retrievers: result.retrievers,
  config,
});
const significanceRows = (c: PooledComparison | null) =>
  c && {
    reference: c.referenceKey,
    trials: c.trials,
    bootstrapResamples: c.resamples,
    replicatesPooled: c.replicates,
    rows: c.rows.map((row, i) => ({
      system: c.otherKeys[i],
      queries: row.queries,
      referenceMean: row.referenceMean,
      otherMean: row.otherMean,
      meanDifference: row.meanDifference,
      ci95: row.diffCi95 ?? null,
      randomizationP: row.randomizationP,
      tTestP: row.tTestP,
    })),
  };

const stageSeconds = (stage: string) => {
  const t = timings.find((x) => x.stage === stage);
  return t ? (Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000 : null;
};
const weak = Object.fromEntries(result.weakData.map((w) => [w.system, { generated: w.generated, failed: w.failed, kept: w.kept, retention: w.generated ? w.kept / w.generated : 0, outputPrefix: w.outputPrefix }]));
const gen = result.weakData.map((w) => ({ system: w.system, seconds: stageSeconds(`generate-${w.system}`), generated: w.generated }));

// Throughput of each model stage, from the activities' own wall time on the model worker (one activity at a time).
// Attempts that returned a stored result (a re-attached or repeated run) did none of the work: rates leave them out,
// and a rate whose stage was (partly) reused is not printed at all.
const computed = (type: string, workflowPart?: string) => costs.filter((c) => c.activityType === type && c.ok && !c.reused && (workflowPart === undefined || c.workflowId.includes(workflowPart)));
const reusedOf = (type: string, workflowPart?: string) => costs.filter((c) => c.activityType === type && c.ok && c.reused && (workflowPart === undefined || c.workflowId.includes(workflowPart))).length;
const reusedActivities: Record<string, number> = {};
for (const c of costs) if (c.ok && c.reused) reusedActivities[c.activityType] = (reusedActivities[c.activityType] ?? 0) + 1;
const wallOf = (type: string, workflowPart?: string) => computed(type, workflowPart).reduce((s, c) => s + c.wallSeconds, 0);
const countOf = (type: string) => computed(type).length;
const documents = result.prepared.counts.documents;
const testQueries = result.prepared.counts.testQueries;
const generationReused = (system: string) => reusedOf('generateShard', `generate-${system}`) > 0;
const genSecondsPerDoc = Object.fromEntries(
  result.weakData.map((w) => [w.system, w.generated + w.failed > 0 && !generationReused(w.system) ? wallOf('generateShard', `generate-${w.system}`) / (w.generated + w.failed) : null]),
);
const tuningRecord = progress?.promptTuning?.record;
const tuningEpochs = tuningRecord ? softPromptRecordSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(tuningRecord)))).curve.length - 1 : null;
const tuningSeconds = wallOf('tunePrompt');
const tuningReused = reusedOf('tunePrompt') > 0;
const filterQueries = result.weakData.reduce((s, w) => s + w.generated, 0);
const filterSeconds = wallOf('filterShardWeakQueries');
const denseSeconds = wallOf('evaluateDense');
const denseRuns = countOf('evaluateDense');
const encoderDocsPerSecond = denseSeconds > 0 ? (denseRuns * (documents + testQueries)) / denseSeconds : null;
// Retriever training scales with its training pairs times epochs; seconds per pair-epoch over the trained systems.
// A weak-first retriever trains its weak pairs for its weak epochs and its labeled pairs for the rest.
const pairEpochsOf = (r: PipelineResult['retrievers'][number]) => {
  const trained = Math.max(1, r.curve.length - 1);
  return r.weakEpochs > 0 ? r.counts.weakPairs * r.weakEpochs + r.counts.labeledPairs * (trained - r.weakEpochs) : (r.counts.labeledPairs + r.counts.weakPairs) * trained;
};
const trainPairEpochs = result.retrievers.reduce((s, r) => s + pairEpochsOf(r), 0);
const trainSecondsPerPairEpoch = trainPairEpochs > 0 && reusedOf('trainRetriever') === 0 ? wallOf('trainRetriever') / trainPairEpochs : null;
const retention = filterQueries > 0 ? result.weakData.reduce((s, w) => s + w.kept, 0) / filterQueries : 0;

/**
 * Wall time of a run over `docs` unlabeled documents (and a corpus of at least that size) with `workers` model
 * workers, from this run's measured rates: generation, the BM25 filter, dense evaluation and example-group scoring
 * split across workers; prompt tuning and each retriever's training are single activities.
 */
function projectHours(docs: number, workers: number): number | null {
  const perDoc = Object.values(genSecondsPerDoc).reduce<number>((s, x) => s + (x ?? 0), 0);
  if (!encoderDocsPerSecond || trainSecondsPerPairEpoch === null || Object.values(genSecondsPerDoc).some((x) => x === null)) return null;
  const corpus = Math.max(documents, docs);
  const generation = (perDoc * docs) / workers;
  const filter = filterQueries > 0 ? (filterSeconds / filterQueries) * docs * result.weakData.length / workers : 0;
  const groups = wallOf('scoreExampleGroup') / workers;
  const labeled = result.retrievers[0]?.counts.labeledPairs ?? 0;
  const epochs = config.retriever.epochs;
  // W/O trains on the labeled pairs; the augmented systems on labeled + kept weak pairs. Each is one activity, but
  // the three run on different workers when there are several.
  const weakEpochs = config.retriever.weakSchedule === 'weak-first' ? config.retriever.weakEpochs : epochs;
  const trainEach = result.retrievers.map((r) => trainSecondsPerPairEpoch * (epochs * labeled + (r.system === 'wo' ? 0 : weakEpochs * retention * docs)));
  const training = workers >= trainEach.length ? Math.max(...trainEach) : trainEach.reduce((s, x) => s + x, 0) / workers;
  const dense = (denseRuns * corpus) / encoderDocsPerSecond / Math.min(workers, Math.max(1, denseRuns));
  return (generation + filter + tuningSeconds + groups + training + dense) / 3600;
}
// One-off stages that this run took from the store (a repeated run) are missing from the projection; say which.
const projectionLeavesOut = [...(tuningReused ? ['prompt tuning'] : []), ...(reusedOf('scoreExampleGroup') > 0 ? ['example-group scoring'] : [])];

const out = {
  command: `npm run bench:scifact -- --config ${values.config}${values.unlabeled ? ` --unlabeled ${values.unlabeled}` : ''}`,
  workflowId,
  finishedAt: description.closeTime?.toISOString(),
  machine: { cores: (await import('node:os')).cpus().length, node: process.version },
  config,
  sizes: {
    sTrainPairs: result.prepared.counts.sTrainPairs,
    sEvalQueries: result.prepared.counts.sEvalQueries,
    unlabeledDocuments: unlabeled,
    testQueries: result.prepared.counts.testQueries,
  },
  /** Each system's dense run of replicate 0, as before retriever.seeds and retriever.hybrid (means: `systems`). */
  metrics: Object.fromEntries(result.evaluations.filter((e) => !e.hybrid && replicateOf(e) === 0).map((e) => [e.system, e.metrics])),
  /** Keyed by system, '-hybrid' appended for BM25 fused with it; ci95 is the Student-t CI of nDCG@10 over the replicates (null with one). */
  systems: Object.fromEntries(
    pooled.groups.map((g) => [
      variantKey(g.system, g.variant),
      { name: g.name, replicates: g.replicates.map((x) => ({ replicate: x.replicate, ...(x.denseWeight !== undefined ? { denseWeight: x.denseWeight } : {}), ...x.metrics })), mean: g.mean, ci95: g.ndcg10Ci95 },
    ]),
  ),
  significance: { dense: significanceRows(pooled.significance.dense), hybrid: significanceRows(pooled.significance.hybrid) },
  /** Each trained retriever on its dev queries: bootstrap CIs over them, and the fused variant's dense weight and score. */
  dev: pooled.dev,
  devTestSpearman: { rho: pooled.agreement.spearman, rows: pooled.agreement.points.length, points: pooled.agreement.points },
  weakFilters: pooled.weakFilters && {
    settings: { maxOverlap: pooled.weakFilters.maxOverlap, maxSpanShare: pooled.weakFilters.maxSpanShare, denseTopK: pooled.weakFilters.denseTopK },
    bySystem: Object.fromEntries(
      pooled.weakFilters.rows.map((w) => [
        w.system,
        {
          bm25Kept: w.bm25Kept,
          afterCopyFilter: w.afterCopyFilter,
          afterDenseRoundTrip: w.afterDenseRoundTrip,
          // Shares of the BM25-kept pairs.
          retention: { afterCopyFilter: w.copyFilterShare, afterDenseRoundTrip: w.denseRoundTripShare },
          copyRate: w.copyRate,
        },
      ]),
    ),
  },
  weakData: weak,
  retrievers: result.retrievers.map((r) => ({ system: r.system, replicate: replicateOf(r), bestEpoch: r.bestEpoch, bestDevScore: r.bestDevScore, weakEpochs: r.weakEpochs, counts: r.counts, curve: r.curve })),
  promptTuning: progress?.promptTuning ?? null,
  exampleGroupLosses: progress?.exampleGroupLosses ?? null,
  promotion: result.promotion,
  timings: Object.fromEntries(timings.map((t) => [t.stage, (Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000])),
  costsByActivity: byActivity,
  throughput: {
    weakQueriesPerHour: Object.fromEntries(gen.map((g) => [g.system, g.seconds && !generationReused(g.system) ? (g.generated / g.seconds) * 3600 : null])),
    generationSecondsPerDocument: genSecondsPerDoc,
    bm25FilterQueriesPerSecond: filterSeconds > 0 ? filterQueries / filterSeconds : null,
    encoderDocumentsPerSecond: encoderDocsPerSecond,
    promptTuningSecondsPerEpoch: tuningEpochs && !tuningReused ? tuningSeconds / tuningEpochs : null,
    promptTuningEpochs: tuningEpochs,
    retrieverTrainingSecondsPerPairEpoch: trainSecondsPerPairEpoch,
    // Without the CPU of reused one-off stages (projectionLeavesOut); null when generation itself was reused.
    cpuHoursPer1000Documents: unlabeled && !Object.values(genSecondsPerDoc).some((x) => x === null) ? (cpuSeconds / 3600 / unlabeled) * 1000 : null,
  },
  /** Successful activity attempts per type that returned stored results; their stages' rates are null. */
  reusedActivities,
  projectionLeavesOut,
  projection100k: Object.fromEntries([1, 2, 4, 8].map((n) => [`${n} model worker${n > 1 ? 's' : ''}`, { wallHours: projectHours(100_000, n) }])),
  wallSeconds,
  cpuSeconds,
  report: { markdown: result.reportKey },
};

await mkdir(dirname(resolve(values.out)), { recursive: true });
await writeFile(resolve(values.out), `${JSON.stringify(out, null, 2)}\n`);
const reportPath = resolve(values.out).replace(/\.json$/, '-report.md');
await writeFile(reportPath, await store.get(result.reportKey));
// Runs started before the result named the HTML report have none to copy.
if (result.reportHtmlKey) await writeFile(reportPath.replace(/\.md$/, '.html'), await store.get(result.reportHtmlKey));
// The small artifacts later experiments re-train from without regenerating: every generated weak query, the
// BM25-kept pairs and the mined hard negatives, named by the hash of the config that made them.
const configHash = fnv1a(JSON.stringify(raw));
const artifactsDir = resolve(values.out).replace(/\.json$/, `-artifacts/${configHash}`);
await mkdir(artifactsDir, { recursive: true });
const exported: { file: string; from: string; bytes: number }[] = [];
const exportBytes = async (file: string, from: string, bytes: Uint8Array) => {
  await writeFile(join(artifactsDir, file), bytes);
  exported.push({ file, from, bytes: bytes.length });
};
for (const w of result.weakData) {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < result.prepared.unlabeled.count; i++) {
    const key = generationShardKeys(w.outputPrefix, i).queries;
    if (await store.stat(key)) parts.push(await store.get(key));
  }
  await exportBytes(`${w.system}-generated.jsonl`, `${w.outputPrefix}/shard-*.queries.jsonl`, Buffer.concat(parts));
  await exportBytes(`${w.system}-kept-bm25.jsonl`, w.keptPairs.key, await store.get(w.keptPairs));
}
for (const r of result.retrievers) {
  if (r.negatives && (r.replicate ?? 0) === 0) await exportBytes(`${r.system}-hard-negatives.jsonl`, r.negatives.key, await store.get(r.negatives));
}
await writeFile(join(artifactsDir, 'manifest.json'), `${JSON.stringify({ workflowId, configHash, config: raw, files: exported }, null, 2)}\n`);
console.log(`  experiment artifacts: ${artifactsDir} (${exported.length} files)`);

for (const g of pooled.groups) {
  const m = g.mean;
  const ci = g.ndcg10Ci95 ? ` (mean of ${g.replicates.length} seeds, 95% CI ${g.ndcg10Ci95.low.toFixed(4)}-${g.ndcg10Ci95.high.toFixed(4)})` : '';
  console.log(`  ${variantKey(g.system, g.variant).padEnd(13)} nDCG@10 ${m.ndcg10.toFixed(4)}  MAP@100 ${m.map100.toFixed(4)}  R@100 ${m.recall100.toFixed(4)}  MRR@10 ${m.mrr10.toFixed(4)}${ci}`);
}
if (pooled.agreement.spearman !== null) console.log(`  dev-test Spearman ${pooled.agreement.spearman.toFixed(4)} over ${pooled.agreement.points.length} trained rows`);
const t = out.throughput;
const fmt = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '-' : x.toFixed(digits));
if (Object.keys(reusedActivities).length > 0) {
  console.log(`  stored results reused (rates of these stages left out): ${Object.entries(reusedActivities).map(([k, n]) => `${k} x${n}`).join(', ')}`);
}
for (const g of gen) console.log(`  weak queries/hour (${g.system}, prefix cache ${config.generation.prefixCache ? 'on' : 'off'}): ${fmt(t.weakQueriesPerHour[g.system], 0)}`);
console.log(`  BM25 filter queries/s ${fmt(t.bm25FilterQueriesPerSecond)}; encoder documents/s ${fmt(t.encoderDocumentsPerSecond)}; prompt tuning s/epoch ${fmt(t.promptTuningSecondsPerEpoch)}`);
const leftOut = projectionLeavesOut.length > 0 ? ` (without ${projectionLeavesOut.join(' and ')}, reused from the store)` : '';
console.log(`  CPU-hours per 1,000 unlabeled documents ${fmt(t.cpuHoursPer1000Documents, 3)}${leftOut}`);
for (const [n, p] of Object.entries(out.projection100k)) console.log(`  projected 100k-document run, ${n}: ${fmt(p.wallHours)} h${leftOut}`);
console.log(`wrote ${values.out} and ${reportPath}; wall ${(wallSeconds / 60).toFixed(1)} min, CPU ${(cpuSeconds / 3600).toFixed(2)} h`);
await connection.close();
