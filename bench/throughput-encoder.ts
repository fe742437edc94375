// Dense encoder at inference, fp32 against int8 (retriever.inferencePrecision), in one run on this machine:
//  - throughput: the same SciFact documents (the corpus's first --docs, at the config's retriever.maxSequenceLength,
//    in the pipeline's batches of ENCODE_BATCH, length-sorted by DenseEncoder.encode) encoded by each encoder in
//    turn, --reps rounds interleaving the encoders so machine noise falls on all of them alike; documents/s per
//    round, the median and best of each, and the int8/fp32 ratio of each round, of the medians and of the bests.
//    A third encoder, fp32 with the same maths written in primitives (no fused LayerNormalization, Gelu and
//    MultiHeadAttention kernels; the inference graph before int8 existed), is timed alongside for reference.
//  - accuracy: the zero-shot encoder on the SciFact test queries over the whole corpus, through the pipeline's
//    own evaluation (evaluateDenseStage, the same metrics), for fp32 and int8; nDCG@10 of both and the difference.
// Writes bench/results/throughput-encoder.json (with the command that made it). The machine is shared: run it
// under `nice` and compare the ratios of one run, not documents/s across runs.
//
//   nice npm run bench:throughput-encoder -- [--config configs/scifact-bench.json] [--docs 512] [--reps 5]
//     [--skip-accuracy] [--out bench/results/throughput-encoder.json]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePipelineConfig, type PipelineConfig } from '../common/pipeline-config.ts';
import { stageConfigs } from '../common/stage-configs.ts';
import { loadQrels, loadQueries } from '../lib/beir/index.ts';
import type { EncoderPrecision } from '../lib/models/encoder-graphs.ts';
import { encoderMaxLength, loadEncoder } from '../lib/models/encoder-source.ts';
import { ENCODE_BATCH } from '../lib/retrieval/dense-retrieval.ts';
import { DenseEncoder, type DenseEncoderOptions } from '../lib/sptar/dense-encoder.ts';
import { evaluateDenseStage } from '../lib/sptar/dense-evaluation.ts';
import { loadCorpusTexts } from '../lib/sptar/retriever-data.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/scifact-bench.json' },
    docs: { type: 'string', default: '512' },
    reps: { type: 'string', default: '5' },
    'skip-accuracy': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/throughput-encoder.json' },
  },
});
const command = `npm run bench:throughput-encoder --${process.argv
  .slice(2)
  .map((a) => ` ${a}`)
  .join('')}`;

const parsed = parsePipelineConfig(JSON.parse(await readFile(resolve(values.config), 'utf8')));
if (!parsed.ok) throw new Error(`${values.config}: ${parsed.message}`);
const config = parsed.config;
const docCount = Number(values.docs);
const reps = Number(values.reps);
if (!(Number.isInteger(docCount) && docCount > 0 && Number.isInteger(reps) && reps > 0)) throw new Error('--docs and --reps must be positive integers');

const model = await loadEncoder(config.encoder);
const maxLength = encoderMaxLength(config, model.config);
const dataset = resolve(config.dataset.path);
const corpus = await loadCorpusTexts(join(dataset, 'corpus.jsonl'));
const docs = corpus.texts.slice(0, docCount);

const ENCODERS: readonly { readonly name: string; readonly options: DenseEncoderOptions }[] = [
  { name: 'fp32', options: { precision: 'fp32' } },
  { name: 'int8', options: { precision: 'int8' } },
  { name: 'fp32-primitives', options: { precision: 'fp32', fusedKernels: false } },
];

const seconds = async (f: () => Promise<unknown>): Promise<number> => {
  const start = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - start) / 1e9;
};
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

// Throughput: every encoder open at once (each its own session, worker thread as in the pipeline), then rounds.
console.log(`encoding ${docs.length} SciFact documents at max ${maxLength} tokens, batches of ${ENCODE_BATCH}, ${reps} interleaved rounds`);
const encoders = await Promise.all(ENCODERS.map((e) => DenseEncoder.open(model.weights, model.config, model.tokenizer, maxLength, { threads: 2 }, e.options)));
const docsPerSecond = new Map<string, number[]>(ENCODERS.map((e) => [e.name, []]));
try {
  // One warm-up pass each (first runs allocate and pre-pack).
  for (const enc of encoders) await enc.encode(docs.slice(0, 2 * ENCODE_BATCH), ENCODE_BATCH);
  for (let r = 0; r < reps; r++) {
    for (const [i, e] of ENCODERS.entries()) {
      const s = await seconds(() => encoders[i]!.encode(docs, ENCODE_BATCH));
      docsPerSecond.get(e.name)!.push(docs.length / s);
    }
    console.log(`round ${r + 1}: ${ENCODERS.map((e) => `${e.name} ${docsPerSecond.get(e.name)!.at(-1)!.toFixed(1)}`).join(', ')} documents/s`);
  }
} finally {
  for (const enc of encoders) await enc.release();
}
const rate = (name: string) => docsPerSecond.get(name)!;
const summary = Object.fromEntries(ENCODERS.map((e) => [e.name, { perRound: rate(e.name).map((x) => round(x, 2)), median: round(median(rate(e.name)), 2), best: round(Math.max(...rate(e.name)), 2) }]));
const perRoundRatio = rate('int8').map((x, r) => x / rate('fp32')[r]!);
const ratios = {
  int8OverFp32: {
    perRound: perRoundRatio.map((x) => round(x)),
    ofMedians: round(median(rate('int8')) / median(rate('fp32'))),
    ofBests: round(Math.max(...rate('int8')) / Math.max(...rate('fp32'))),
    medianOfRounds: round(median(perRoundRatio)),
  },
  fp32OverFp32Primitives: { ofMedians: round(median(rate('fp32')) / median(rate('fp32-primitives'))) },
  int8OverFp32Primitives: { ofMedians: round(median(rate('int8')) / median(rate('fp32-primitives'))) },
};
for (const e of ENCODERS) console.log(`${e.name}: median ${summary[e.name]!.median} documents/s, best ${summary[e.name]!.best}`);
console.log(`int8 / fp32: ${ratios.int8OverFp32.ofMedians} (medians), ${ratios.int8OverFp32.ofBests} (bests), per round ${ratios.int8OverFp32.perRound.join(', ')}`);

// Accuracy: the zero-shot test evaluation of the pipeline, once per precision.
let accuracy: Record<string, unknown> | undefined;
if (!values['skip-accuracy']) {
  const queryTexts = (await loadQueries(join(dataset, 'queries.jsonl'))).value;
  const qrels = (await loadQrels(join(dataset, config.dataset.testQrels))).value;
  const metrics: Partial<Record<EncoderPrecision, Awaited<ReturnType<typeof evaluateDenseStage>>['metrics'] & { seconds: number }>> = {};
  for (const precision of ['fp32', 'int8'] as const) {
    const withPrecision: PipelineConfig = { ...config, retriever: { ...config.retriever, inferencePrecision: precision } };
    let result: Awaited<ReturnType<typeof evaluateDenseStage>> | undefined;
    const s = await seconds(async () => {
      result = await evaluateDenseStage(stageConfigs(withPrecision).denseEvaluation, model, { corpus, queryTexts, qrels }, { place: { threads: 2 } });
    });
    metrics[precision] = { ...result!.metrics, seconds: round(s, 1) };
    console.log(`zero-shot ${precision}: nDCG@10 ${result!.metrics.ndcg10.toFixed(4)} over ${result!.metrics.queries} test queries, ${corpus.ids.length} documents (${s.toFixed(0)} s)`);
  }
  const difference = metrics.int8!.ndcg10 - metrics.fp32!.ndcg10;
  console.log(`nDCG@10 int8 - fp32: ${difference.toFixed(4)}`);
  accuracy = { corpusDocuments: corpus.ids.length, fp32: metrics.fp32, int8: metrics.int8, ndcg10Difference: round(difference, 4) };
}

const result = {
  command,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
  settings: { config: values.config, encoder: config.encoder, documents: docs.length, maxLength, batch: ENCODE_BATCH, rounds: reps, threads: 2 },
  documentsPerSecond: summary,
  ratios,
  ...(accuracy ? { accuracy } : {}),
};
await mkdir(dirname(resolve(values.out)), { recursive: true });
await writeFile(resolve(values.out), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${values.out}`);
