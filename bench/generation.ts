// Decoding speed on real SmolLM2-135M: tokens/s with and without the KV cache over 100 generated tokens, and
// the per-document time of SPTAR-style generation with the shared prefix (soft prompt + two examples)
// recomputed per batch versus computed once and reused. Without the cache every row of every batch runs the
// prefix through the model (what a system without prefix caching does); with it the prefix runs once and its
// batch-1 keys/values are shared by all rows of every batch (see lib/generation/generate.ts). Decoder time is split
// into the prefix computation, prompt prefill and one-token decoding steps.
// Flags: --prefix runs only the prefix-caching comparison; --in-thread keeps onnxruntime on the JS thread (the
// default is the worker thread the pipeline uses); --batch (default: the pipeline's generation.batchSize),
// --documents (16) and --document-words (default: the pipeline's document limit) shape the prefix comparison.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pipelineConfigSchema } from '../common/pipeline-config.ts';
import type { CausalDecoder, DecoderStepInput, DecoderStepOutput } from '../lib/generation/decoder-step.ts';
import { generate } from '../lib/generation/generate.ts';
import { OnnxCausalDecoder } from '../lib/generation/onnx-decoder.ts';
import { buildPrefixEmbeds, computePrefixCache } from '../lib/generation/prefix-cache.ts';
import { greedySampler } from '../lib/generation/token-sampler.ts';
import { promptLimits } from '../lib/sptar/prompt-limits.ts';
import { PromptTokenizer } from '../lib/sptar/prompt-tokens.ts';
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
    'in-thread': { type: 'boolean', default: false },
    batch: { type: 'string', default: String(pipelineConfigSchema.parse({}).generation.batchSize) },
    documents: { type: 'string', default: '16' },
    'document-words': { type: 'string', default: String(DEFAULT_PROMPT_LIMITS.document.max) },
  },
});
const inThread = flags['in-thread'];
const batchSize = Number(flags.batch);
const documentCount = Number(flags.documents);
const documentWords = Number(flags['document-words']);
const decoder = await OnnxCausalDecoder.create(loaded.weights, loaded.config, ['last'], { worker: !inThread });

/** Decoder time by kind of call: batch-1 prefix computation, prompt prefill (several positions), decoding steps. */
class TimedDecoder implements CausalDecoder {
  readonly seconds = { prefix: 0, prefill: 0, decode: 0 };
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
    return out;
  }
  reset(): void {
    this.seconds.prefix = this.seconds.prefill = this.seconds.decode = 0;
  }
}
const model = new TimedDecoder();
console.log(`decoder sessions: ${inThread ? 'on the JS thread' : 'in a worker thread'}`);
const docs = readFileSync(CORPUS, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string });
const queries = readFileSync(QUERIES, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string });
const cut = (text: string, max: number) => tokenizer.decode(tokenizer.encode(text).slice(0, max));

// 1. KV cache vs full recompute, 100 new tokens (no stop tokens).
const prompt = tokenizer.encode(cut(docs[0]?.text ?? '', 48));
const hundred = { eosTokenIds: [], stopTokenIds: [], maxNewTokens: 100 };
for (const useKvCache of flags.prefix ? [] : [true, false]) {
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
for (const mode of ['recomputed prefix', 'cached prefix'] as const) {
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
const [recomputed = 0, cached = 1] = perDocSeconds;
console.log(`prefix caching speed-up: ${(recomputed / cached).toFixed(2)}x per document (the one-time prefix computation spread over these ${targets.length} documents)`);
console.log(`prefix caching speed-up once the prefix is computed: ${(recomputed / steadySeconds).toFixed(2)}x per document (a shard of many documents approaches this)`);
console.log(`weak queries per hour on this machine (one model worker): ${Math.round(3600 / recomputed)} with the prefix recomputed, ${Math.round(3600 / steadySeconds)} with it cached`);
await decoder.release();
