// Retriever training settings tried on stored SciFact weak data, outside Temporal: for each system (W/O, SPTAR,
// InPars-style, or the dataset's own train split as a supervised reference) and each setting, trains the encoder
// and, after every epoch (epoch 0 = the starting encoder), encodes the corpus once and scores both the dev queries
// (the ones the pipeline selects epochs with) and the test queries. Test scores are printed for analysis only; the
// pipeline never sees them.
//
//   npm run bench:retriever-sweep -- --prepared <prepare stage hash> --weak sptar=<generate dir> --weak inpars=<dir>
//     [--systems wo,sptar,inpars,supervised] [--lr 2e-5,5e-6] [--epochs 2] [--top-k 70] [--schedule mixed,weak-first]
//     [--weak-epochs 1] [--out <json>]
//
// Needs the services (MinIO holds the stored stages of a bench:scifact run) and the installed models.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createArtifactStore, type ArtifactStore } from '../activities/artifact-store/index.ts';
import { withLocalCopies, withScratch } from '../activities/local-copies.ts';
import { denseRun, devQueryIds, loadCorpusTexts, loadEncoder, mergeLabeled, queriesWithText, toRun, type Beat } from '../activities/retriever-activities.ts';
import { parsePipelineConfig } from '../common/pipeline-config.ts';
import { preparedDataSchema } from '../common/pipeline-stages.ts';
import { weakPairRowSchema } from '../common/retriever-types.ts';
import { loadQrels, loadQueries, type Qrels } from '../lib/beir/index.ts';
import { evaluateRun } from '../lib/metrics/index.ts';
import { DenseEncoder, EncoderTrainer } from '../lib/sptar/dense-encoder.ts';
import { seededPhaseShuffle, trainingPhases, trainPhases, type TrainingPair, type WeakSchedule } from '../lib/sptar/retriever-training.ts';
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
const topKs = values['top-k'] === undefined ? [config.weakFilter.topK] : values['top-k'].split(',').map(Number);
const systems = values.systems.split(',');
const schedules = (values.schedule === undefined ? [r.weakSchedule] : values.schedule.split(',')).map((x) => {
  if (x !== 'mixed' && x !== 'weak-first') throw new Error(`--schedule: expected mixed or weak-first, got '${x}'`);
  return x as WeakSchedule;
});
const weakEpochs = values['weak-epochs'] === undefined ? r.weakEpochs : Number(values['weak-epochs']);
const weakDirs = new Map(values.weak.map((w) => w.split('=') as [string, string]));

const store: ArtifactStore = createArtifactStore(loadSettings().store);

async function preparedRecord() {
  const prefix = `${scope}/prepare/`;
  const keys = (await store.list(prefix)).filter((k) => k.endsWith('/prepared.json'));
  const key = values.prepared ? keys.find((k) => k.includes(`/${values.prepared}/`)) : keys.length === 1 ? keys[0] : undefined;
  if (!key) throw new Error(`pick the prepare stage with --prepared <hash>; stored: ${keys.map((k) => k.split('/')[2]).join(', ') || 'none'}`);
  return preparedDataSchema.parse(JSON.parse(new TextDecoder().decode(await store.get((await store.stat(key))!))));
}

const prepared = await preparedRecord();
console.log(`prepared: ${JSON.stringify(prepared.counts)}`);
const base = await loadEncoder(config.encoder);
const maxLength = Math.min(r.maxSequenceLength, base.config.maxPositions);

const data = await withLocalCopies(store, { corpus: prepared.corpus, queries: prepared.queries, sTrain: prepared.sTrain, sEval: prepared.sEval, test: prepared.testQrels }, async (paths) => ({
  ...(await loadCorpusTexts(paths['corpus']!)),
  queries: (await loadQueries(paths['queries']!)).value,
  sTrain: (await loadQrels(paths['sTrain']!)).value,
  sEval: (await loadQrels(paths['sEval']!)).value,
  test: (await loadQrels(paths['test']!)).value,
}));

const labeled = mergeLabeled(data.sTrain, data.sEval);
const dev = devQueryIds(labeled.keys(), r.devFraction, config.seed);
const devQrels: Qrels = new Map([...dev].map((q) => [q, labeled.get(q)!]));
const testQueryIds = new Set(data.test.keys());

async function weakRows(system: string, topK: number): Promise<{ query: string; docId: string }[]> {
  const dir = weakDirs.get(system);
  if (!dir) throw new Error(`--weak ${system}=<generate dir under ${scope}/> is needed for system ${system}`);
  const keys = (await store.list(`${scope}/${dir}/`)).filter((k) => /kept-pairs-k\d+\.jsonl$/.test(k));
  const source = keys.map((k) => ({ k, kk: Number(/k(\d+)\.jsonl$/.exec(k)![1]) })).filter((x) => x.kk >= topK).sort((a, b) => a.kk - b.kk)[0];
  if (!source) throw new Error(`${scope}/${dir}: no kept pairs at k >= ${topK}`);
  const lines = new TextDecoder().decode(await store.get((await store.stat(source.k))!)).split('\n').filter((l) => l.trim() !== '');
  return lines.map((l) => weakPairRowSchema.parse(JSON.parse(l))).filter((row) => row.rank <= topK);
}

/** The dataset's own train split minus dev and test queries: what a fully supervised run would learn from. */
async function supervisedQrels(): Promise<Qrels> {
  const path = join(resolve(config.dataset.path), config.dataset.trainQrels);
  const all = (await loadQrels(path)).value;
  return new Map([...all].filter(([q]) => !dev.has(q) && !testQueryIds.has(q)));
}

async function pairsFor(system: string, topK: number) {
  const texts = new Map<string, string>();
  const pairs: TrainingPair[] = [];
  const seen = new Set<string>();
  const add = (key: string, text: string, docId: string) => {
    if (!data.position.has(docId) || seen.has(`${key}\u0000${docId}`)) return;
    seen.add(`${key}\u0000${docId}`);
    texts.set(key, text);
    pairs.push({ queryId: key, docId });
  };
  const source = system === 'supervised' ? await supervisedQrels() : labeled;
  for (const qid of [...source.keys()].sort()) {
    if (dev.has(qid)) continue;
    for (const docId of [...source.get(qid)!.keys()].sort()) add(`labeled:${qid}`, data.queries.get(qid)!, docId);
  }
  const labeledPairs = pairs.length;
  if (system === 'sptar' || system === 'inpars') for (const row of await weakRows(system, topK)) add(`weak:${row.query}`, row.query, row.docId);
  return { texts, pairs, labeledPairs };
}

async function scoreEpoch(weights: readonly Float32Array[], trainer: EncoderTrainer) {
  return withScratch(async (cacheDir) => {
    const encoder = await DenseEncoder.open(trainer.withTrained(base.weights, weights), base.config, base.tokenizer, maxLength, { cacheDir });
    try {
      const docs = { ids: data.ids, dim: encoder.dim, data: await encoder.encode(data.texts, 16) };
      const quiet: Beat = () => undefined;
      const score = async (qrels: Qrels) => evaluateRun(qrels, toRun(await denseRun(encoder, docs, queriesWithText(qrels.keys(), data.queries), quiet))).mean;
      const devMean = await score(devQrels);
      const testMean = await score(data.test);
      return { dev: devMean['ndcg@10']!, test: { ndcg10: testMean['ndcg@10']!, map100: testMean['map@100']!, recall100: testMean['recall@100']!, mrr10: testMean['mrr@10']! } };
    } finally {
      await encoder.release();
    }
  });
}

type Trial = { system: string; schedule: WeakSchedule; weakEpochs: number; learningRate: number; topK: number | null; labeledPairs: number; weakPairs: number; seconds: number; epochs: { epoch: number; trainLoss: number | null; dev: number; test: Awaited<ReturnType<typeof scoreEpoch>>['test'] }[] };
const out = resolve(values.out);
const trials: Trial[] = [];
const trainer = await EncoderTrainer.open(base.weights, base.config, base.tokenizer, { scale: r.similarityScale, maxLength });
let start: Awaited<ReturnType<typeof scoreEpoch>> | undefined;
try {
  for (const system of systems) {
    for (const topK of system === 'sptar' || system === 'inpars' ? topKs : [null]) {
      for (const learningRate of learningRates) {
        // W/O and supervised have no weak pairs: one schedule is enough for them.
        for (const schedule of system === 'sptar' || system === 'inpars' ? schedules : ['mixed' as const]) {
          const t0 = Date.now();
          const { texts, pairs, labeledPairs } = await pairsFor(system, topK ?? 0);
          start ??= await scoreEpoch(trainer.trainable(base.weights), trainer);
          const scored = new Map<number, Awaited<ReturnType<typeof scoreEpoch>>>();
          const phases = trainingPhases(pairs.slice(0, labeledPairs), pairs.slice(labeledPairs), schedule, epochs, weakEpochs);
          let offset = 0;
          const label = `${system} k=${topK ?? '-'} lr=${learningRate} ${schedule}`;
          const curve = await trainPhases(
            trainer.trainable(base.weights),
            phases,
            (phase) => {
              let calls = 0;
              const phaseOffset = offset;
              offset += phase.epochs;
              return {
                lossAndGradients: (weights, batch) =>
                  trainer.lossAndGradients(
                    weights,
                    batch.map((p) => texts.get(p.queryId)!),
                    batch.map((p) => data.texts[data.position.get(p.docId)!]!),
                  ),
                async devScore(weights) {
                  // The first phase scores its start (the starting encoder, scored once for all trials) and each epoch;
                  // later phases only their epochs.
                  const epoch = phaseOffset === 0 ? calls++ : phaseOffset + ++calls;
                  const s = epoch === 0 ? start! : await scoreEpoch(weights, trainer);
                  scored.set(epoch, s);
                  console.log(`  ${label} epoch ${epoch}: dev ${s.dev.toFixed(4)} test nDCG@10 ${s.test.ndcg10.toFixed(4)}`);
                  return s.dev;
                },
              };
            },
            {
              batchSize: r.batchSize,
              learningRate,
              weightDecay: r.weightDecay,
              warmupFraction: r.warmupFraction,
              maxGradNorm: r.maxGradNorm,
              // The pipeline's shuffles, so a trial with the pipeline's settings trains the pipeline's encoder.
              shuffle: seededPhaseShuffle(config.seed),
            },
          );
          const trial: Trial = {
            system,
            schedule,
            weakEpochs: curve.leadingEpochs,
            learningRate,
            topK,
            labeledPairs,
            weakPairs: pairs.length - labeledPairs,
            seconds: (Date.now() - t0) / 1000,
            epochs: curve.curve.map((p) => ({ epoch: p.epoch, trainLoss: Number.isNaN(p.trainLoss) ? null : p.trainLoss, dev: p.devScore, test: scored.get(p.epoch)!.test })),
          };
          trials.push(trial);
          console.log(`${label}: ${labeledPairs} labeled + ${trial.weakPairs} weak pairs, ${trial.seconds.toFixed(0)} s`);
          await mkdir(dirname(out), { recursive: true });
          await writeFile(out, `${JSON.stringify({ config: values.config, prepared: values.prepared ?? null, devQueries: dev.size, testQueries: data.test.size, epochs, trials }, null, 2)}\n`);
        }
      }
    }
  }
} finally {
  await trainer.release();
}
console.log(`\nsystem        k    lr       schedule    epoch  dev     test nDCG@10  MAP@100  R@100   MRR@10`);
for (const t of trials) for (const e of t.epochs) console.log(`${t.system.padEnd(12)} ${String(t.topK ?? '-').padStart(3)}  ${t.learningRate.toExponential(0).padEnd(7)}  ${t.schedule.padEnd(10)}  ${String(e.epoch).padStart(5)}  ${e.dev.toFixed(4)}  ${e.test.ndcg10.toFixed(4)}        ${e.test.map100.toFixed(4)}   ${e.test.recall100.toFixed(4)}  ${e.test.mrr10.toFixed(4)}`);
console.log(`wrote ${out}`);
