// Decoding speed on real SmolLM2-135M: tokens/s with and without the KV cache over 100 generated tokens, and
// the per-document time of SPTAR-style generation with the shared prefix (soft prompt + two examples)
// recomputed per batch versus computed once and reused. Without the cache every row of every batch runs the
// prefix through the model (what a system without prefix caching does); with it the prefix runs once and its
// batch-1 keys/values are shared by all rows of every batch (see lib/generation/generate.ts). Decoder time is split
// into the prefix computation, prompt prefill and one-token decoding steps.
// Flags: --prefix runs only the prefix-caching comparison; --in-thread keeps onnxruntime on the JS thread (the
// default is the worker thread the pipeline uses); --batch (default: the pipeline's generation.batchSize),
// --documents (16) and --document-words (default: the pipeline's document limit) shape the prefix comparison.
// --length-sort runs only the batch-order comparison: the same SciFact documents (--documents of them, from the
// 11th) through the pipeline's InPars-style writer at the settings of --config (default configs/scifact-bench.json:
// batch size, document and query word limits, max new tokens, shard size), once with each shard's batches taken in
// shard order and once sorted by prompt length (lib/sptar/length-sorted-batches.ts, as the shard activity does), in
// --rounds rounds (each shard in both orders back to back, alternating which first) after an untimed warm-up on two
// batches of further documents. It prints weak queries per hour (wall and process CPU time) of both orders, their
// ratios and how many weak queries are identical, and writes bench/results/throughput-generation.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generationSettings } from '../common/generation-types.ts';
import { pipelineConfigSchema } from '../common/pipeline-config.ts';
import type { CausalDecoder, DecoderStepInput, DecoderStepOutput } from '../lib/generation/decoder-step.ts';
import { generate } from '../lib/generation/generate.ts';
import { OnnxCausalDecoder } from '../lib/generation/onnx-decoder.ts';
import { buildPrefixEmbeds, computePrefixCache } from '../lib/generation/prefix-cache.ts';
import { greedySampler } from '../lib/generation/token-sampler.ts';
import { lengthSortedOrder, paddedPromptPositions, restoreShardOrder } from '../lib/sptar/length-sorted-batches.ts';
import { promptLimits } from '../lib/sptar/prompt-limits.ts';
import { PromptTokenizer } from '../lib/sptar/prompt-tokens.ts';
import { weakQueryWriter, writeWeakQueries } from '../lib/sptar/weak-query-generation.ts';
import type { WriterDocument, WriterOutcome } from '../lib/sptar/weak-query-writer.ts';
import { tokenizerFromGgufMetadata } from '../lib/tokenizers/gguf-tokenizer.ts';
import { DEFAULT_PROMPT_LIMITS } from '../lib/weak-data/index.ts';
import { loadGguf } from '../lib/weights/gguf.ts';

const MODEL = new URL('../models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const CORPUS = new URL('../../shared/data/scifact/corpus.jsonl', import.meta.url).pathname;
const QUERIES = new URL('../../shared/data/scifact/queries.jsonl', import.meta.url).pathname;

const loaded = await loadGguf(MODEL);
const tokenizer = tokenizerFromGgufMetadata(loaded.tokenizerMetadata, MODEL);
const { values: flags } = parseArgs({
  options: {
    prefix: { type: 'boolean', default: false },
    'length-sort': { type: 'boolean', default: false },
    config: { type: 'string', default: 'configs/scifact-bench.json' },
    rounds: { type: 'string', default: '1' },
    'in-thread': { type: 'boolean', default: false },
    batch: { type: 'string', default: String(pipelineConfigSchema.parse({}).generation.batchSize) },
    documents: { type: 'string', default: '16' },
    'document-words': { type: 'string', default: String(DEFAULT_PROMPT_LIMITS.document.max) },
  },
});
const inThread = flags['in-thread'];
const lengthSortOnly = flags['length-sort'];
const batchSize = Number(flags.batch);
const documentCount = Number(flags.documents);
const documentWords = Number(flags['document-words']);
const decoder = await OnnxCausalDecoder.create(loaded.weights, loaded.config, ['last'], { worker: !inThread });

/** Decoder time by kind of call: batch-1 prefix computation, prompt prefill (several positions), decoding steps. */
class TimedDecoder implements CausalDecoder {
  readonly seconds = { prefix: 0, prefill: 0, decode: 0 };
  /** Prompt prefill calls and the positions they ran (batch rows x columns, padding included). */
  readonly prefill = { calls: 0, positions: 0 };
  /** Set while the shared prefix is computed, so its calls are counted apart. */
  inPrefix = false;
  readonly hiddenSize = decoder.hiddenSize;
  readonly vocabSize = decoder.vocabSize;
  embed(ids: readonly number[]): Float32Array {
    return decoder.embed(ids);
  }
  async step(input: DecoderStepInput): Promise<DecoderStepOutput> {
    const start = performance.now();
    const out = await decoder.step(input);
    const kind = input.seqLen === 1 ? 'decode' : this.inPrefix ? 'prefix' : 'prefill';
    this.seconds[kind] += (performance.now() - start) / 1000;
    if (kind === 'prefill') {
      this.prefill.calls++;
      this.prefill.positions += input.batchSize * input.seqLen;
    }
    return out;
  }
  reset(): void {
    this.seconds.prefix = this.seconds.prefill = this.seconds.decode = 0;
    this.prefill.calls = this.prefill.positions = 0;
  }
}
const model = new TimedDecoder();
console.log(`decoder sessions: ${inThread ? 'on the JS thread' : 'in a worker thread'}`);
const docs = readFileSync(CORPUS, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; title: string; text: string });
const queries = readFileSync(QUERIES, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string });
const cut = (text: string, max: number) => tokenizer.decode(tokenizer.encode(text).slice(0, max));

// 1. KV cache vs full recompute, 100 new tokens (no stop tokens).
const prompt = tokenizer.encode(cut(docs[0]?.text ?? '', 48));
const hundred = { eosTokenIds: [], stopTokenIds: [], maxNewTokens: 100 };
for (const useKvCache of flags.prefix || lengthSortOnly ? [] : [true, false]) {
  const start = performance.now();
  const { rows } = await generate({ model, prompts: [prompt], sampler: greedySampler, stopping: hundred, padTokenId: 2, useKvCache });
  const seconds = (performance.now() - start) / 1000;
  console.log(`${useKvCache ? 'with KV cache   ' : 'without KV cache'}: ${rows[0]?.tokens.length} tokens in ${seconds.toFixed(2)} s = ${((rows[0]?.tokens.length ?? 0) / seconds).toFixed(1)} tokens/s (prompt ${prompt.length} tokens)`);
}

// 2. Prefix caching on the SPTAR template with two examples and a 50-vector soft prompt, laid out exactly as the
// pipeline lays it out (PromptTokenizer), at the pipeline's default batch size and document/query word limits.
const initIds = tokenizer.encode('please generate query for this document');
const tiled = Array.from({ length: 50 }, (_, i) => initIds[i % initIds.length] ?? 0);
const softPrompt = model.embed(tiled);
const limits = promptLimits({ maxDocumentWords: documentWords, maxQueryWords: DEFAULT_PROMPT_LIMITS.query.max });
const layout = new PromptTokenizer(tokenizer, 2, limits);
const examples = [1, 2].map((d, q) => ({ document: docs[d]?.text ?? '', query: queries[q]?.text ?? '' }));
const prefix = buildPrefixEmbeds(model, softPrompt, layout.prefixIds(examples));
const targets = docs.slice(10, 10 + documentCount).map((d) => layout.documentIds(d.text));
const stopping = { eosTokenIds: [2], stopTokenIds: tokenizer.idsContaining('\n'), maxNewTokens: 32 };
const perDocSeconds: number[] = [];
let steadySeconds = 0;
for (const mode of lengthSortOnly ? [] : (['recomputed prefix', 'cached prefix'] as const)) {
  model.reset();
  const start = performance.now();
  model.inPrefix = true;
  const shared = mode === 'cached prefix' ? await computePrefixCache(model, prefix) : prefix;
  model.inPrefix = false;
  const outputs: string[] = [];
  for (let i = 0; i < targets.length; i += batchSize) {
    const { rows } = await generate({ model, prompts: targets.slice(i, i + batchSize), prefix: shared, sampler: greedySampler, stopping, padTokenId: 2 });
    outputs.push(...rows.map((r) => tokenizer.decode(r.tokens)));
  }
  const total = (performance.now() - start) / 1000;
  const perDoc = total / targets.length;
  perDocSeconds.push(perDoc);
  const t = model.seconds;
  const split = `prefix computation ${t.prefix.toFixed(2)} s, prompt prefill ${t.prefill.toFixed(2)} s, decoding steps ${t.decode.toFixed(2)} s, outside the decoder ${(total - t.prefix - t.prefill - t.decode).toFixed(2)} s`;
  console.log(`${mode}: ${perDoc.toFixed(3)} s per document (prefix ${prefix.length} positions, ${targets.length} documents, batch ${batchSize}; ${split})`);
  if (mode === 'cached prefix') steadySeconds = (total - t.prefix) / targets.length;
  console.log(`  first query: ${JSON.stringify(outputs[0])}`);
}
if (!lengthSortOnly) {
  const [recomputed = 0, cached = 1] = perDocSeconds;
  console.log(`prefix caching speed-up: ${(recomputed / cached).toFixed(2)}x per document (the one-time prefix computation spread over these ${targets.length} documents)`);
  console.log(`prefix caching speed-up once the prefix is computed: ${(recomputed / steadySeconds).toFixed(2)}x per document (a shard of many documents approaches this)`);
  console.log(`weak queries per hour on this machine (one model worker): ${Math.round(3600 / recomputed)} with the prefix recomputed, ${Math.round(3600 / steadySeconds)} with it cached`);
} else {
  await lengthSortComparison();
}
await decoder.release();

// 3. Batches in shard order vs sorted by prompt length, through the pipeline's own writer and batch order.
async function lengthSortComparison(): Promise<void> {
  const loadAtStart = loadavg().map((l) => round(l, 2));
  const config = pipelineConfigSchema.parse(JSON.parse(readFileSync(flags.config, 'utf8')));
  const settings = generationSettings(config, null, 'inpars');
  const shardSize = config.generation.shardSize;
  const eosTokenId = loaded.tokenizerMetadata.eosTokenId ?? tokenizer.special.eos ?? 2;
  const writer = weakQueryWriter(model, { config: loaded.config, weights: loaded.weights, tokenizer, eosTokenId }, settings, undefined);
  const batch = writer.batchSize;
  const bench = docs.slice(10, 10 + documentCount);
  const shards: (typeof bench)[] = [];
  for (let i = 0; i < bench.length; i += shardSize) shards.push(bench.slice(i, i + shardSize));
  const lengths = shards.map((shard) => shard.map((d) => writer.promptTokens(d)));
  const orders = {
    'shard order': shards.map((shard) => shard.map((_, i) => i)),
    'length-sorted': lengths.map((l) => lengthSortedOrder(l)),
  };
  type OrderName = keyof typeof orders;
  const padded = (name: OrderName) => shards.reduce((sum, _, s) => sum + paddedPromptPositions(lengths[s]!, orders[name][s]!, batch), 0);
  const promptTokens = lengths.flat().reduce((a, b) => a + b, 0);
  console.log(
    `${bench.length} SciFact documents (corpus lines 11-${10 + bench.length}) in ${shards.length} shard(s) of up to ${shardSize}; batch ${batch}, documents cut to ${settings.maxDocumentWords} words, ` +
      `at most ${settings.maxNewTokens} new tokens, InPars-style prompt with its prefix cached; document prompts ${Math.min(...lengths.flat())}-${Math.max(...lengths.flat())} tokens, ${promptTokens} in all`,
  );

  // The writer computes the shared prefix on its first batch, and onnxruntime's first calls at a shape are slower:
  // a warm-up over documents outside the measured ones, in both orders, before anything is timed. Then each round runs
  // every shard in both orders back to back, which order first alternating (A B, B A; then B A, A B), so a change
  // in the machine's other load falls on both orders alike.
  const warmUp = docs.slice(10 + documentCount, 10 + documentCount + 2 * batch);
  await writeWeakQueries(writer, warmUp);
  const warmLengths = warmUp.map((d) => writer.promptTokens(d));
  await writeWeakQueries(writer, lengthSortedOrder(warmLengths).map((p) => warmUp[p]!));
  const unit = async (name: OrderName, s: number, r: number) => {
    const shard = shards[s]!;
    const order = orders[name][s]!;
    model.reset();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const processed: WriterOutcome[] = [];
    for (let i = 0; i < order.length; i += batch) processed.push(...(await writer.generate(order.slice(i, i + batch).map((p) => shard[p] as WriterDocument))));
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const outcomes = restoreShardOrder(processed, order);
    const weak = outcomes.filter((o) => 'query' in o).length;
    const t = model.seconds;
    const p = { ...model.prefill };
    console.log(
      `  shard ${s} ${name}: ${seconds.toFixed(1)} s, ${weak} weak queries (prompt prefill ${t.prefill.toFixed(1)} s in ${p.calls} calls over ${p.positions} positions, decoding steps ${t.decode.toFixed(1)} s)`,
    );
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return { round: r, order: name, shard: s, seconds, cpuSeconds, weakQueries: weak, prefillSeconds: t.prefill, decodeSeconds: t.decode, prefillCalls: p.calls, prefillPositions: p.positions, outcomes };
  };
  const units: Awaited<ReturnType<typeof unit>>[] = [];
  const names = ['shard order', 'length-sorted'] as const;
  for (let r = 0; r < Number(flags.rounds); r++) {
    for (let s = 0; s < shards.length; s++) for (const name of (r + s) % 2 === 0 ? names : [...names].reverse()) units.push(await unit(name, s, r));
  }

  const summary = (name: OrderName) => {
    const mine = units.filter((u) => u.order === name);
    const seconds = mine.reduce((a, u) => a + u.seconds, 0);
    const cpuSeconds = mine.reduce((a, u) => a + u.cpuSeconds, 0);
    const weak = mine.reduce((a, u) => a + u.weakQueries, 0);
    return {
      rounds: Number(flags.rounds),
      seconds: round(seconds, 1),
      cpuSeconds: round(cpuSeconds, 1),
      weakQueries: weak,
      weakQueriesPerHour: Math.round((weak / seconds) * 3600),
      weakQueriesPerCpuHour: Math.round((weak / cpuSeconds) * 3600),
      prefillSeconds: round(mine.reduce((a, u) => a + u.prefillSeconds, 0), 1),
      decodeSeconds: round(mine.reduce((a, u) => a + u.decodeSeconds, 0), 1),
      paddedPromptPositionsPerPass: padded(name),
    };
  };
  const shardOrder = summary('shard order');
  const sorted = summary('length-sorted');
  const text = (o: WriterOutcome) => ('query' in o ? o.query : `(failure: ${o.failure})`);
  // Each round's weak queries of one order, all shards, in shard order.
  const texts = (name: OrderName) =>
    Array.from({ length: Number(flags.rounds) }, (_, r) => units.filter((u) => u.order === name && u.round === r).flatMap((u) => u.outcomes.map(text)));
  const [a1, ...aRest] = texts('shard order');
  const [b1, ...bRest] = texts('length-sorted');
  const same = (x: readonly string[], y: readonly string[]) => x.filter((q, i) => q === y[i]).length;
  // Later rounds of one order against its first: the smallest count of identical queries (null with one round).
  const repeat = (first: readonly string[], rest: readonly (readonly string[])[]) => (rest.length === 0 ? null : Math.min(...rest.map((r) => same(first, r))));
  const differing = bench.flatMap((d, i) => (a1![i] === b1![i] ? [] : [{ id: d._id, shardOrder: a1![i], lengthSorted: b1![i] }]));
  const ratio = sorted.weakQueriesPerHour / shardOrder.weakQueriesPerHour;
  const cpuRatio = sorted.weakQueriesPerCpuHour / shardOrder.weakQueriesPerCpuHour;
  console.log(`weak queries per hour: ${shardOrder.weakQueriesPerHour} in shard order, ${sorted.weakQueriesPerHour} length-sorted (${ratio.toFixed(2)}x)`);
  console.log(`weak queries per CPU-hour of this process: ${shardOrder.weakQueriesPerCpuHour} in shard order, ${sorted.weakQueriesPerCpuHour} length-sorted (${cpuRatio.toFixed(2)}x)`);
  console.log(`document prompt positions run per pass (padding included): ${shardOrder.paddedPromptPositionsPerPass} in shard order, ${sorted.paddedPromptPositionsPerPass} length-sorted (${promptTokens} without padding)`);
  console.log(`identical weak queries between the orders: ${same(a1!, b1!)} of ${bench.length} (repeat passes: shard order ${repeat(a1!, aRest)}, length-sorted ${repeat(b1!, bRest)} of ${bench.length})`);
  for (const d of differing) console.log(`  differs: ${d.id}: ${JSON.stringify(d.shardOrder)} vs ${JSON.stringify(d.lengthSorted)}`);

  const command = `${getPriority() > 0 ? `nice -n ${getPriority()} ` : ''}npx tsx bench/generation.ts ${process.argv.slice(2).join(' ')}`.trim();
  const result = {
    command,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((l) => round(l, 2)), niceness: getPriority(), decoderSessions: inThread ? 'JS thread' : 'worker thread' },
    model: 'models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf',
    config: flags.config,
    settings: { system: 'inpars', batchSize: batch, maxDocumentWords: settings.maxDocumentWords, maxQueryWords: settings.maxQueryWords, maxNewTokens: settings.maxNewTokens, prefixCache: settings.prefixCache, shardSize },
    documents: { source: '../shared/data/scifact/corpus.jsonl', lines: `11-${10 + bench.length}`, count: bench.length, shards: shards.map((s) => s.length), promptTokens },
    units: units.map((u) => ({
      round: u.round,
      shard: u.shard,
      order: u.order,
      seconds: round(u.seconds, 1),
      cpuSeconds: round(u.cpuSeconds, 1),
      weakQueries: u.weakQueries,
      prefillSeconds: round(u.prefillSeconds, 1),
      prefillCalls: u.prefillCalls,
      prefillPositions: u.prefillPositions,
      decodeSeconds: round(u.decodeSeconds, 1),
    })),
    shardOrder,
    lengthSorted: sorted,
    ratio: round(ratio, 3),
    cpuRatio: round(cpuRatio, 3),
    identical: { betweenOrders: same(a1!, b1!), repeatShardOrder: repeat(a1!, aRest), repeatLengthSorted: repeat(b1!, bRest), of: bench.length, differing },
  };
  const out = new URL('results/throughput-generation.json', import.meta.url).pathname;
  mkdirSync(new URL('results/', import.meta.url).pathname, { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}
