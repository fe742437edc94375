// Retriever training settings tried on stored SciFact weak data, outside Temporal: for each system (W/O, SPTAR,
// InPars-style, or the dataset's own train split as a supervised reference) and each setting, runs the pipeline's
// own training stage (`trainRetrieverStage`: the same pair assembly, dev split, phases and seeded shuffles, and the
// same dev score over the same dev corpus) and, after every epoch (epoch 0 = the starting encoder), also scores the
// test queries with that epoch's encoder over the whole corpus. Test scores are printed for analysis only; the
// pipeline never sees them. A trial with the config's settings trains the encoder the pipeline trains.
//
//   npm run bench:retriever-sweep -- [--prepared <prepare stage hash>] --weak sptar=<generation output prefix>
//     --weak inpars=<generation output prefix> [--systems wo,sptar,inpars,supervised] [--lr 2e-5,5e-6] [--epochs 2]
//     [--top-k 70] [--schedule mixed,weak-first] [--weak-epochs 1] [--out <json>]
//
// A generation output prefix is `outputPrefix` of the run's weak data (the pipeline's progress query and report show
// it); the sweep reads that run's merged kept pairs, stored at the config's weakFilter.topK, and `--top-k K` keeps
// the rows with BM25 rank <= K (K may not exceed weakFilter.topK: deeper pairs were never kept). Only this run's
// pairs are read, not an incremental run's earlier ones. `supervised` trains on the dataset's train qrels, less the
// dev and test queries, with the same pair assembly.
//
// The prepare stage is found by key: the one of a full run of the config on the dataset as it is now (--prepared
// names another). Needs the services (MinIO holds the stored stages of a bench:scifact run) and the installed models.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bm25IndexKey, mergedKeptPairsKey, prepareKeys, stageScopes } from '../common/artifact-keys.ts';
import { parsePipelineConfig } from '../common/pipeline-config.ts';
import { preparedDataSchema, type Metrics } from '../common/pipeline-stages.ts';
import type { RetrieverConfig } from '../common/stage-configs.ts';
import { createArtifactStore, type ArtifactStore } from '../lib/artifact-store/index.ts';
import { withLocalCopies } from '../lib/artifact-store/local-copies.ts';
import { loadQrels } from '../lib/beir/index.ts';
import { deserializeBm25Index } from '../lib/bm25/index.ts';
import { testMetrics } from '../lib/metrics/index.ts';
import { loadEncoder } from '../lib/models/encoder-source.ts';
import type { EmbeddingMatrix } from '../lib/retrieval/dense-search.ts';
import { encodeCorpus, queriesWithText, retrieveAndEvaluate, type EncodeProgress } from '../lib/retrieval/dense-retrieval.ts';
import type { DenseEncoder } from '../lib/sptar/dense-encoder.ts';
import { datasetFiles, datasetFingerprint } from '../lib/sptar/prepare-stage.ts';
import { assembleTrainingPairs, mergeLabeled, parseWeakPairs, preparedNames, readRetrieverFiles, retrieverTrainingData, type RetrieverTrainingData, type WeakPairGroup } from '../lib/sptar/retriever-data.ts';
import { trainRetrieverStage } from '../lib/sptar/retriever-stage.ts';
import type { WeakSchedule } from '../lib/sptar/retriever-training.ts';
import { loadSettings } from '../workers/settings.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/scifact-bench.json' },
    scope: { type: 'string' },
    prepared: { type: 'string' },
    weak: { type: 'string', multiple: true, default: [] },
    systems: { type: 'string', default: 'wo,sptar,inpars' },
    lr: { type: 'string' },
    epochs: { type: 'string' },
    'top-k': { type: 'string' },
    schedule: { type: 'string' },
    'weak-epochs': { type: 'string' },
    out: { type: 'string', default: 'bench/results/tries/retriever-sweep.json' },
  },
});

const parsed = parsePipelineConfig(JSON.parse(await readFile(resolve(values.config), 'utf8')));
if (!parsed.ok) throw new Error(`${values.config}: ${parsed.message}`);
const config = parsed.config;
const r = config.retriever;
const scope = values.scope ?? config.runName;
const epochs = values.epochs === undefined ? r.epochs : Number(values.epochs);
const learningRates = values.lr === undefined ? [r.learningRate] : values.lr.split(',').map(Number);
const systems = values.systems.split(',');
for (const s of systems) if (!['wo', 'sptar', 'inpars', 'supervised'].includes(s)) throw new Error(`--systems: expected wo, sptar, inpars or supervised, got '${s}'`);
const isWeak = (system: string) => system === 'sptar' || system === 'inpars';
const schedules = (values.schedule === undefined ? [r.weakSchedule] : values.schedule.split(',')).map((x) => {
  if (x !== 'mixed' && x !== 'weak-first') throw new Error(`--schedule: expected mixed or weak-first, got '${x}'`);
  return x as WeakSchedule;
});
const weakEpochs = values['weak-epochs'] === undefined ? r.weakEpochs : Number(values['weak-epochs']);
const weakPrefixes = new Map(
  values.weak.map((w) => {
    const at = w.indexOf('=');
    if (at <= 0) throw new Error(`--weak: expected <system>=<generation output prefix>, got '${w}'`);
    return [w.slice(0, at), w.slice(at + 1)] as const;
  }),
);
// The depth the run kept its pairs at; a cut at K <= depth keeps exactly the pairs a run at K would have kept.
const keptDepth = config.weakFilter.topK;
const topKs = values['top-k'] === undefined ? [keptDepth] : values['top-k'].split(',').map(Number);
if (systems.some(isWeak)) {
  for (const k of topKs) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`--top-k: expected positive integers, got '${values['top-k']}'`);
    if (k > keptDepth) throw new Error(`--top-k ${k}: the stored kept pairs are those with BM25 rank <= ${keptDepth} (weakFilter.topK in ${values.config}); pairs deeper than that were never kept, so k must be <= ${keptDepth}`);
  }
  for (const s of systems.filter(isWeak)) if (!weakPrefixes.has(s)) throw new Error(`--weak ${s}=<generation output prefix> is needed for system ${s}`);
}

const store: ArtifactStore = createArtifactStore(loadSettings().store);

/** The prepare stage of a full run of this config on the dataset as it is now, or the one named by --prepared. */
async function preparedRecord() {
  const sc = values.prepared
    ? { scope, stage: 'prepare' as const, inputHash: values.prepared }
    : stageScopes.prepare(scope, config, await datasetFingerprint(datasetFiles(config.dataset)), null);
  const key = prepareKeys(sc).record;
  const ref = await store.stat(key);
  if (!ref) throw new Error(`${key} is not stored; run the pipeline with this config first (npm run bench:scifact), or name another prepare stage with --prepared <hash>`);
  return preparedDataSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(ref))));
}

const prepared = await preparedRecord();
console.log(`prepared: ${JSON.stringify(prepared.counts)}`);
const base = await loadEncoder(config.encoder);

const files = await withLocalCopies(store, { corpus: prepared.corpus, queries: prepared.queries, sTrain: prepared.sTrain, sEval: prepared.sEval, test: prepared.testQrels }, async (paths) => ({
  ...(await readRetrieverFiles({ corpus: paths['corpus']!, queries: paths['queries']!, sTrain: paths['sTrain']!, sEval: paths['sEval']! })),
  test: (await loadQrels(paths['test']!)).value,
}));
const names = preparedNames(prepared);
// The run's BM25 index: hard negatives, the dev pool's distractors and the fusion weight read it, as in the pipeline.
const indexKey = bm25IndexKey(stageScopes.bm25Index(scope, config, prepared), config.weakFilter.backend);
const indexRef = await store.stat(indexKey);
if (!indexRef) throw new Error(`${indexKey} is not stored; run the pipeline with this config first (npm run bench:scifact)`);
const bm25 = deserializeBm25Index(await store.get(indexRef));
const search = (q: string, k: number) => bm25.search(q, k);
const wf = config.weakFilter;
if (wf.maxOverlap !== null || wf.maxSpanShare !== null || wf.denseTopK !== null) {
  console.log('note: the weak filters after BM25 (weakFilter.maxOverlap, maxSpanShare, denseTopK) are not applied here; the sweep trains on the BM25-kept pairs');
}
const testQueries = queriesWithText(files.test.keys(), files.queryTexts);

/** This run's kept pairs of an augmentor, cut at BM25 rank `topK`. */
async function weakPairs(system: string, topK: number): Promise<WeakPairGroup> {
  const key = mergedKeptPairsKey(weakPrefixes.get(system)!, keptDepth);
  const ref = await store.stat(key);
  if (!ref) throw new Error(`${key} is not stored: --weak ${system}= must be the output prefix of a finished generation run with weakFilter.topK ${keptDepth}`);
  const group = parseWeakPairs(await store.get(ref), key);
  return { source: group.source, rows: group.rows.filter((row) => row.rank <= topK) };
}

/** The pipeline's training data for a system; `supervised` swaps in the dataset's train qrels as the labeled pairs. */
async function trainingData(system: string, topK: number): Promise<RetrieverTrainingData> {
  const data = retrieverTrainingData(config, { ...files, weak: isWeak(system) ? [await weakPairs(system, topK)] : [], names, search });
  if (system !== 'supervised') return data;
  const path = join(resolve(config.dataset.path), config.dataset.trainQrels);
  const pairs = assembleTrainingPairs({
    labeled: mergeLabeled((await loadQrels(path)).value, new Map()),
    heldOut: new Set([...data.dev.queryIds, ...files.test.keys()]),
    queryTexts: files.queryTexts,
    corpus: files.corpus,
    weak: [],
    names: { queries: names.queries, labeled: path },
  });
  return { ...data, pairs };
}

const quiet: EncodeProgress = () => undefined;

/** The test queries over the whole corpus with one epoch's encoder (the dev corpus's embeddings when it is the whole corpus). */
async function testScores(encoder: DenseEncoder, devCorpus: RetrieverTrainingData['dev']['corpus'], devEmbeddings: EmbeddingMatrix): Promise<Metrics> {
  const docs = devCorpus === files.corpus ? devEmbeddings : await encodeCorpus(encoder, files.corpus, quiet);
  return testMetrics((await retrieveAndEvaluate(encoder, docs, testQueries, files.test, quiet)).evaluation);
}

type Trial = { system: string; schedule: WeakSchedule; weakEpochs: number; learningRate: number; topK: number | null; labeledPairs: number; weakPairs: number; seconds: number; epochs: { epoch: number; trainLoss: number | null; dev: number; test: Metrics }[] };
const out = resolve(values.out);
const trials: Trial[] = [];
// Every trial starts from the same encoder: its test scores are computed once.
let start: Metrics | undefined;
let devQueries = 0;
for (const system of systems) {
  for (const topK of isWeak(system) ? topKs : [null]) {
    for (const learningRate of learningRates) {
      // W/O and supervised have no weak pairs: one schedule is enough for them.
      for (const schedule of isWeak(system) ? schedules : ['mixed' as const]) {
        const t0 = Date.now();
        const data = await trainingData(system, topK ?? keptDepth);
        devQueries = data.dev.queryIds.size;
        const trialConfig: RetrieverConfig = { ...config, retriever: { ...r, learningRate, epochs, weakSchedule: schedule, weakEpochs } };
        const label = `${system} k=${topK ?? '-'} lr=${learningRate} ${schedule}`;
        const scored = new Map<number, Metrics>();
        const trained = await trainRetrieverStage(trialConfig, data, base, {
          async onDevScore({ epoch, devScore, encoder, devEmbeddings }) {
            const test = epoch === 0 && start ? start : await testScores(encoder, data.dev.corpus, devEmbeddings);
            if (epoch === 0) start = test;
            scored.set(epoch, test);
            console.log(`  ${label} epoch ${epoch}: dev ${devScore.toFixed(4)} test nDCG@10 ${test.ndcg10.toFixed(4)}`);
          },
        });
        const trial: Trial = {
          system,
          schedule,
          weakEpochs: trained.weakEpochs,
          learningRate,
          topK,
          labeledPairs: trained.counts.labeledPairs,
          weakPairs: trained.counts.weakPairs,
          seconds: (Date.now() - t0) / 1000,
          epochs: trained.curve.map((p) => ({ epoch: p.epoch, trainLoss: p.trainLoss, dev: p.devScore, test: scored.get(p.epoch)! })),
        };
        trials.push(trial);
        console.log(`${label}: ${trial.labeledPairs} labeled + ${trial.weakPairs} weak pairs, ${trial.seconds.toFixed(0)} s`);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, `${JSON.stringify({ config: values.config, prepared: values.prepared ?? null, devQueries, testQueries: files.test.size, epochs, trials }, null, 2)}\n`);
      }
    }
  }
}
console.log(`\nsystem        k    lr       schedule    epoch  dev     test nDCG@10  MAP@100  R@100   MRR@10`);
for (const t of trials) for (const e of t.epochs) console.log(`${t.system.padEnd(12)} ${String(t.topK ?? '-').padStart(3)}  ${t.learningRate.toExponential(0).padEnd(7)}  ${t.schedule.padEnd(10)}  ${String(e.epoch).padStart(5)}  ${e.dev.toFixed(4)}  ${e.test.ndcg10.toFixed(4)}        ${e.test.map100.toFixed(4)}   ${e.test.recall100.toFixed(4)}  ${e.test.mrr10.toFixed(4)}`);
console.log(`wrote ${out}`);
