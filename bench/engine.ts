// Model-engine benchmark: onnxruntime MatMul throughput at 1 and 2 threads, SmolLM2 prefill throughput and its
// fraction of MatMul throughput, how long one run blocks the JS thread, one prompt-tuning step (l = 50 plus a
// ~300-token prompt), MiniLM encoding documents/s, and peak RSS. The event-loop stalls of the real-model paths the
// pipeline's activities call (one SPTAR generation batch of SmolLM2 through the weak query writer, one
// all-MiniLM-L6-v2 training step at batch 32 through EncoderTrainer), with onnxruntime on the JS thread and in
// its worker thread (the default): the longest stall is what delays Temporal heartbeats.
// `npm run bench:engine -- --stalls` runs only the stall measurements.
// Real weights come from models/ via lib/weights; when a file is absent, seeded random weights of the real shapes
// stand in (the timings depend on shapes only).
import { existsSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BertConfig, LlamaConfig, WeightMap } from '../lib/models/model-config.ts';
import { DECODER_NAMES, SOFT_PROMPT_NAMES } from '../lib/models/decoder-graphs.ts';
import { openDecoderStepSession, openSoftPromptLossSession } from '../lib/models/model-sessions.ts';
import { Mulberry32 } from '../lib/random/prng.ts';
import { randomBertWeights, randomLlamaWeights } from '../lib/models/tiny-models.ts';
import { GraphBuilder } from '../lib/onnx/graph-builder.ts';
import { weightsDigest } from '../lib/onnx/graph-cache.ts';
import * as op from '../lib/onnx/ops.ts';
import { ModelSession, hostTensor, type HostTensor } from '../lib/onnx/session.ts';
import { loadGguf, type GgufModel } from '../lib/weights/gguf.ts';
import { OnnxCausalDecoder } from '../lib/generation/onnx-decoder.ts';
import { DenseEncoder, EncoderTrainer } from '../lib/sptar/dense-encoder.ts';
import { promptLimits } from '../lib/sptar/prompt-limits.ts';
import { PromptTokenizer } from '../lib/sptar/prompt-tokens.ts';
import { WeakQueryWriter, type WriterDocument } from '../lib/sptar/weak-query-writer.ts';
import { tokenizerFromGgufMetadata } from '../lib/tokenizers/gguf-tokenizer.ts';
import type { TextTokenizer } from '../lib/tokenizers/text-tokenizer.ts';
import { loadTokenizerJson } from '../lib/tokenizers/tokenizer-files.ts';
import { loadBertCheckpoint } from '../lib/weights/hf-checkpoint.ts';

const SMOLLM2 = 'models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf';
const MINILM = 'models/all-minilm-l6-v2';
const PREFILL_TOKENS = 300;
const PROMPT_LENGTH = 50;
const ENCODER_BATCH = 32;
const DOC_LEN = 256;
const SCIFACT_CORPUS = '../shared/data/scifact/corpus.jsonl';
const SCIFACT_QUERIES = '../shared/data/scifact/queries.jsonl';
const GENERATION_BATCH = 4;
const ENCODE_DOCS = 512;
const ENCODE_MAX_LENGTH = 256;
const ENCODE_BATCH = 32;

const SMOLLM2_SHAPES: LlamaConfig = {
  architecture: 'llama', vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3,
  headDim: 64, rmsNormEps: 1e-5, ropeTheta: 100000, maxPositions: 8192, tieWordEmbeddings: true,
};
const MINILM_SHAPES: BertConfig = {
  architecture: 'bert', vocabSize: 30522, hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536, layerNormEps: 1e-12, maxPositions: 512, typeVocabSize: 2,
};

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await f();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/**
 * Best and median seconds of `reps` runs after one warm-up, and the longest event-loop stall seen meanwhile. On a
 * shared machine the best run is the closest to the hardware's capability; ratios use best against best.
 */
async function measure(reps: number, f: () => Promise<unknown>): Promise<{ best: number; median: number; maxStallMs: number }> {
  await f();
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push((await timed(f)).seconds);
  histogram.disable();
  times.sort((a, b) => a - b);
  return { best: times[0] as number, median: times[Math.floor(times.length / 2)] as number, maxStallMs: histogram.max / 1e6 };
}

async function matmulGflops(threads: number, n: number): Promise<number> {
  const b = new GraphBuilder('matmul');
  const x = b.input('x', 'float32', [n, n]);
  const rng = new Mulberry32(1);
  const w = b.initializer('w', 'float32', [n, n], rng.floats(n * n, 1));
  b.output(op.matmul(b, x, w), 'y');
  const s = await ModelSession.create(b.toBytes(), { intraOpThreads: threads, label: 'matmul' });
  const feeds = { x: hostTensor('float32', [n, n], rng.floats(n * n, 1)) };
  const { best } = await measure(7, () => s.run(feeds));
  await s.release();
  return (2 * n ** 3) / best / 1e9;
}

function ids(count: number, vocab: number, rng: Mulberry32): HostTensor {
  return hostTensor('int64', [1, count], BigInt64Array.from({ length: count }, () => BigInt(rng.int(vocab))));
}

function ones(dims: number[]): HostTensor {
  return hostTensor('int64', dims, new BigInt64Array(dims.reduce((a, c) => a * c, 1)).fill(1n));
}

/** Multiply-adds x 2 of one LLaMA forward over `tokens` tokens from scratch (projections, MLP, attention, LM head). */
function llamaFlops(cfg: LlamaConfig, tokens: number, lmHeadTokens: number): number {
  const { hiddenSize: h, numHeads: nh, numKvHeads: nkv, headDim: d, intermediateSize: ff } = cfg;
  const perToken = h * nh * d * 2 + h * nkv * d * 2 + 3 * h * ff;
  const attention = nh * d * tokens * (tokens + 1); // QK^T and PV over the causal half, both
  return 2 * cfg.numLayers * (perToken * tokens + attention) + 2 * h * cfg.vocabSize * lmHeadTokens;
}

function threadName(worker: boolean): string {
  return worker ? 'onnxruntime in a worker thread' : 'onnxruntime on the JS thread';
}

/**
 * all-MiniLM-L6-v2 encoding throughput on real SciFact documents (title + " " + text, at most 256 tokens, batches
 * of 32 sorted by length so padding stays small), as the zero-shot retrieval test encodes the corpus.
 */
async function encoderThroughput(bert: { config: BertConfig; weights: WeightMap; source: string }, fmt: (x: number, digits?: number) => string): Promise<void> {
  if (!existsSync(`${MINILM}/tokenizer.json`) || !existsSync(SCIFACT_CORPUS)) {
    console.log(`encoder documents/s: skipped (${MINILM}/tokenizer.json or ${SCIFACT_CORPUS} missing)`);
    return;
  }
  const tokenizer = await loadTokenizerJson(`${MINILM}/tokenizer.json`);
  const docs = readFileSync(SCIFACT_CORPUS, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, ENCODE_DOCS)
    .map((line) => {
      const row = JSON.parse(line) as { title?: string; text?: string };
      return `${row.title ?? ''} ${row.text ?? ''}`.trim();
    })
    .sort((a, b) => a.length - b.length);
  const encoder = await DenseEncoder.open(bert.weights, bert.config, tokenizer, ENCODE_MAX_LENGTH, { threads: 2 });
  await encoder.encode(docs.slice(0, ENCODE_BATCH), ENCODE_BATCH);
  const run = await timed(() => encoder.encode(docs, ENCODE_BATCH));
  await encoder.release();
  console.log(
    `encoder documents/s (${bert.source}; ${docs.length} SciFact documents, max ${ENCODE_MAX_LENGTH} tokens, batch ${ENCODE_BATCH} sorted by length): ` +
      `${fmt(docs.length / run.seconds, 1)} documents/s (${fmt(run.seconds)} s)`,
  );
}

function readJsonl<T>(path: string, count: number): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, count)
    .map((line) => JSON.parse(line) as T);
}

/** Real SciFact texts when the data is present, else seeded word salad of similar length. */
function benchTexts(count: number, kind: 'documents' | 'queries', rng: Mulberry32): string[] {
  const path = kind === 'documents' ? SCIFACT_CORPUS : SCIFACT_QUERIES;
  if (existsSync(path)) return readJsonl<{ title?: string; text?: string }>(path, count).map((r) => `${r.title ?? ''} ${r.text ?? ''}`.trim());
  const words = ['protein', 'cell', 'vitamin', 'density', 'tumor', 'insulin', 'gene', 'expression', 'patients', 'risk'];
  return Array.from({ length: count }, () => Array.from({ length: kind === 'documents' ? 220 : 12 }, () => words[rng.int(words.length)]).join(' '));
}

/** Longest event-loop stall and wall time of `f`, with a timer histogram running throughout (warm-up included). */
async function stallOf<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number; maxStallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const run = await timed(f);
  // A loop blocked for the whole call records its delay only when the histogram's timer fires afterwards.
  await new Promise((resolve) => setTimeout(resolve, 50));
  histogram.disable();
  return { ...run, maxStallMs: histogram.max / 1e6 };
}

/**
 * One SPTAR generation batch on SmolLM2 through the weak query writer, as the generation activity runs it:
 * 50 soft-prompt vectors + two examples as the shared prefix (computed once, in the first batch), documents of at
 * most 100 words, greedy up to 32 new tokens, batch 4. The first batch includes the prefix computation.
 */
async function generationStalls(loaded: GgufModel, fmt: (x: number, digits?: number) => string, rng: Mulberry32): Promise<void> {
  const tokenizer = tokenizerFromGgufMetadata(loaded.tokenizerMetadata, SMOLLM2);
  const eos = loaded.tokenizerMetadata.eosTokenId ?? 2;
  const docs = benchTexts(2 + 2 * GENERATION_BATCH, 'documents', rng).map((text): WriterDocument => ({ title: '', text }));
  const queries = benchTexts(2, 'queries', rng);
  const examples = [0, 1].map((i) => ({ document: docs[i]?.text ?? '', query: queries[i] ?? '' }));
  const initIds = tokenizer.encode('please generate query for this document');
  for (const worker of [false, true]) {
    const model = await OnnxCausalDecoder.create(loaded.weights, loaded.config, ['last'], { worker });
    const softPrompt = model.embed(Array.from({ length: PROMPT_LENGTH }, (_, i) => initIds[i % initIds.length] ?? 0));
    const writer = new WeakQueryWriter(model, new PromptTokenizer(tokenizer, eos, promptLimits({ maxDocumentWords: 100, maxQueryWords: 48 })), softPrompt, examples, { maxNewTokens: 32, batchSize: GENERATION_BATCH, prefixCache: true });
    const first = await stallOf(() => writer.generate(docs.slice(2, 2 + GENERATION_BATCH)));
    const second = await stallOf(() => writer.generate(docs.slice(2 + GENERATION_BATCH)));
    await model.release();
    console.log(
      `SmolLM2 generation batch (weak query writer, batch ${GENERATION_BATCH}, ${PROMPT_LENGTH}-vector soft prompt + 2 examples, greedy <= 32 tokens, ${threadName(worker)}): ` +
        `first batch with the prefix computation ${fmt(first.seconds)} s, longest event-loop stall ${fmt(first.maxStallMs, 0)} ms; ` +
        `next batch ${fmt(second.seconds)} s, longest stall ${fmt(second.maxStallMs, 0)} ms`,
    );
  }
}

/** One all-MiniLM-L6-v2 training step at batch 32 through EncoderTrainer (tokenisation, run, gradient copies). */
async function encoderTrainingStalls(bert: { config: BertConfig; weights: WeightMap; source: string }, fmt: (x: number, digits?: number) => string, rng: Mulberry32): Promise<void> {
  if (!existsSync(`${MINILM}/tokenizer.json`)) {
    console.log(`encoder training step: skipped (${MINILM}/tokenizer.json missing)`);
    return;
  }
  const tokenizer: TextTokenizer = await loadTokenizerJson(`${MINILM}/tokenizer.json`);
  const queries = benchTexts(ENCODER_BATCH, 'queries', rng);
  const docs = benchTexts(ENCODER_BATCH, 'documents', rng);
  for (const worker of [false, true]) {
    const trainer = await timed(() => EncoderTrainer.open(bert.weights, bert.config, tokenizer, { scale: 20, maxLength: DOC_LEN }, { threads: 2, worker }));
    const params = trainer.value.trainable(bert.weights);
    const step = await stallOf(() => trainer.value.lossAndGradients(params, queries, docs));
    await trainer.value.release();
    console.log(
      `encoder training step (${bert.source}; EncoderTrainer, batch ${ENCODER_BATCH} SciFact queries + documents of at most ${DOC_LEN} tokens, loss + all ${trainer.value.weightNames.length} weight gradients, ` +
        `${threadName(worker)}; session ${fmt(trainer.seconds)} s): ${fmt(step.seconds, 3)} s, longest event-loop stall ${fmt(step.maxStallMs, 0)} ms`,
    );
  }
}

async function main(): Promise<void> {
  const fmt = (x: number, digits = 2) => x.toFixed(digits);
  const stallsOnly = process.argv.includes('--stalls');
  console.log(`# model engine benchmark${stallsOnly ? ' (event-loop stalls only)' : ''} (2 shared cores: figures vary with other load)`);
  const rng = new Mulberry32(3);
  let g2 = 0;
  if (!stallsOnly) {
    const n = 1024;
    // Large enough to be compute-bound; the weight is an initializer, as in the model graphs (pre-packed).
    const g1 = await matmulGflops(1, n);
    g2 = await matmulGflops(2, n);
    console.log(`MatMul ${n}x${n}x${n} float32: ${fmt(g1, 1)} GFLOP/s (1 thread), ${fmt(g2, 1)} GFLOP/s (2 threads)`);
  }

  let llama: { config: LlamaConfig; weights: WeightMap; source: string };
  let gguf: GgufModel | undefined;
  if (existsSync(SMOLLM2)) {
    const loaded = await timed(() => loadGguf(SMOLLM2));
    gguf = loaded.value;
    llama = { config: loaded.value.config, weights: loaded.value.weights, source: `${SMOLLM2} (dequantised to float32 in ${fmt(loaded.seconds)} s)` };
  } else {
    llama = { config: SMOLLM2_SHAPES, weights: randomLlamaWeights(SMOLLM2_SHAPES, 1, 0.05), source: 'random weights of SmolLM2-135M shapes' };
  }
  const cfg = llama.config;
  console.log(`decoder: ${llama.source}; ${cfg.numLayers} layers, hidden ${cfg.hiddenSize}, heads ${cfg.numHeads}/${cfg.numKvHeads}`);
  if (!stallsOnly) await decoderRuns(llama, g2, fmt, rng);
  // What the machine alone does to the event loop (other processes on the shared cores): the floor for the rest.
  const idle = await stallOf(() => new Promise((resolve) => setTimeout(resolve, 3000)));
  console.log(`idle event loop (3 s of timers only): longest stall ${fmt(idle.maxStallMs, 0)} ms`);
  if (gguf) await generationStalls(gguf, fmt, rng);
  else console.log(`SmolLM2 generation batch: skipped (${SMOLLM2} missing; the tokenizer comes from the GGUF file)`);

  let bert: { config: BertConfig; weights: WeightMap; source: string };
  if (existsSync(`${MINILM}/model.safetensors`)) {
    const loaded = await loadBertCheckpoint(MINILM);
    bert = { ...loaded, source: MINILM };
  } else {
    bert = { config: MINILM_SHAPES, weights: randomBertWeights(MINILM_SHAPES, 2, 0.05), source: 'random weights of all-MiniLM-L6-v2 shapes' };
  }
  await encoderTrainingStalls(bert, fmt, rng);
  if (!stallsOnly) await encoderThroughput(bert, fmt);

  console.log(`peak RSS: ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB`);
}

/** SmolLM2 prefill throughput and the prompt-tuning step (raw sessions), with their event-loop stalls. */
async function decoderRuns(llama: { config: LlamaConfig; weights: WeightMap }, g2: number, fmt: (x: number, digits?: number) => string, rng: Mulberry32): Promise<void> {
  const cfg = llama.config;
  const digest = await timed(async () => weightsDigest(llama.weights));
  const place = { weightsDigest: digest.value, threads: 2 };
  const opened = await timed(() => openDecoderStepSession(llama.weights, cfg, { logits: 'last' }, place));
  console.log(`decoder step session (digest ${fmt(digest.seconds)} s, build-or-load + session ${fmt(opened.seconds)} s)`);
  const embeds = hostTensor('float32', [1, PREFILL_TOKENS, cfg.hiddenSize], rng.floats(PREFILL_TOKENS * cfg.hiddenSize, 0.05));
  const past: Record<string, HostTensor> = {};
  for (let i = 0; i < cfg.numLayers; i++) {
    past[DECODER_NAMES.pastKey(i)] = hostTensor('float32', [1, cfg.numKvHeads, 0, cfg.headDim], new Float32Array(0));
    past[DECODER_NAMES.pastValue(i)] = hostTensor('float32', [1, cfg.numKvHeads, 0, cfg.headDim], new Float32Array(0));
  }
  const prefillFeeds = {
    [DECODER_NAMES.inputsEmbeds]: embeds,
    [DECODER_NAMES.attentionMask]: ones([1, PREFILL_TOKENS]),
    [DECODER_NAMES.positionIds]: hostTensor('int64', [1, PREFILL_TOKENS], BigInt64Array.from({ length: PREFILL_TOKENS }, (_, i) => BigInt(i))),
    ...past,
  };
  const prefill = await measure(5, () => opened.value.run(prefillFeeds));
  const prefillGflops = llamaFlops(cfg, PREFILL_TOKENS, 1) / prefill.best / 1e9;
  console.log(
    `prefill ${PREFILL_TOKENS} tokens: best ${fmt(prefill.best, 3)} s (median ${fmt(prefill.median, 3)} s) = ${fmt(PREFILL_TOKENS / prefill.best, 0)} tokens/s, ` +
      `${fmt(prefillGflops, 1)} GFLOP/s = ${fmt((100 * prefillGflops) / g2, 0)}% of 2-thread MatMul; JS thread blocked up to ${fmt(prefill.maxStallMs, 0)} ms per run`,
  );
  await opened.value.release();

  const restTokens = 300;
  const labelMask = new Float32Array(restTokens);
  labelMask.fill(1, restTokens - 20);
  const lossFeeds = {
    [SOFT_PROMPT_NAMES.softPrompt]: hostTensor('float32', [PROMPT_LENGTH, cfg.hiddenSize], rng.floats(PROMPT_LENGTH * cfg.hiddenSize, 0.05)),
    [SOFT_PROMPT_NAMES.inputIds]: ids(restTokens, cfg.vocabSize, rng),
    [SOFT_PROMPT_NAMES.labelMask]: hostTensor('float32', [1, restTokens], labelMask),
    [SOFT_PROMPT_NAMES.attentionMask]: ones([1, PROMPT_LENGTH + restTokens]),
  };
  for (const worker of [false, true]) {
    const lossSession = await timed(() => openSoftPromptLossSession(llama.weights, cfg, { promptLength: PROMPT_LENGTH, gradient: true }, { ...place, worker }));
    const step = await measure(3, () => lossSession.value.run(lossFeeds));
    console.log(
      `prompt-tuning step (l=${PROMPT_LENGTH} + ${restTokens} tokens, loss + exact gradient, ${threadName(worker)}; session ${fmt(lossSession.seconds)} s): ` +
        `best ${fmt(step.best, 3)} s, median ${fmt(step.median, 3)} s; longest event-loop stall ${fmt(step.maxStallMs, 0)} ms`,
    );
    await lossSession.value.release();
  }

}

await main();
