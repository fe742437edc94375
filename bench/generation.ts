// Decoding speed on real SmolLM2-135M: tokens/s with and without the KV cache over 100 generated tokens, and
// the per-document time of SPTAR-style generation with the shared prefix (soft prompt + two examples)
// recomputed per batch versus computed once and reused. Without the cache every row of every batch runs the
// prefix through the model (what a system without prefix caching does); with it the prefix runs once and its
// batch-1 keys/values are shared by all rows of every batch (see lib/generation/generate.ts).
import { readFileSync } from 'node:fs';
import { generate } from '../lib/generation/generate.ts';
import { OnnxCausalDecoder } from '../lib/generation/onnx-decoder.ts';
import { buildPrefixEmbeds, computePrefixCache } from '../lib/generation/prefix-cache.ts';
import { greedySampler } from '../lib/generation/token-sampler.ts';
import { tokenizerFromGgufMetadata } from '../lib/tokenizers/gguf-tokenizer.ts';
import { loadGguf } from '../lib/weights/gguf.ts';

const MODEL = new URL('../models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const CORPUS = new URL('../../shared/data/scifact/corpus.jsonl', import.meta.url).pathname;
const QUERIES = new URL('../../shared/data/scifact/queries.jsonl', import.meta.url).pathname;

const loaded = await loadGguf(MODEL);
const tokenizer = tokenizerFromGgufMetadata(loaded.tokenizerMetadata, MODEL);
const model = await OnnxCausalDecoder.create(loaded.weights, loaded.config, ['last']);
const docs = readFileSync(CORPUS, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string });
const queries = readFileSync(QUERIES, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string });
const cut = (text: string, max: number) => tokenizer.decode(tokenizer.encode(text).slice(0, max));

// 1. KV cache vs full recompute, 100 new tokens (no stop tokens).
const prompt = tokenizer.encode(cut(docs[0]?.text ?? '', 48));
const hundred = { eosTokenIds: [], stopTokenIds: [], maxNewTokens: 100 };
for (const useKvCache of [true, false]) {
  const start = performance.now();
  const { rows } = await generate({ model, prompts: [prompt], sampler: greedySampler, stopping: hundred, padTokenId: 2, useKvCache });
  const seconds = (performance.now() - start) / 1000;
  console.log(`${useKvCache ? 'with KV cache   ' : 'without KV cache'}: ${rows[0]?.tokens.length} tokens in ${seconds.toFixed(2)} s = ${((rows[0]?.tokens.length ?? 0) / seconds).toFixed(1)} tokens/s (prompt ${prompt.length} tokens)`);
}

// 2. Prefix caching on the SPTAR template with two examples and a 50-vector soft prompt.
const initIds = tokenizer.encode('please generate query for this document');
const tiled = Array.from({ length: 50 }, (_, i) => initIds[i % initIds.length] ?? 0);
const softPrompt = model.embed(tiled);
const example = (d: number, q: number) => `Document: ${cut(docs[d]?.text ?? '', 100)} \n Relevant Query: ${queries[q]?.text ?? ''} \n `;
const prefixIds = tokenizer.encode(example(1, 0) + example(2, 1));
const prefix = buildPrefixEmbeds(model, softPrompt, prefixIds);
const targets = docs.slice(10, 18).map((d) => tokenizer.encode(`Document: ${cut(d.text, 100)} \n Relevant Query: `));
const stopping = { eosTokenIds: [2], stopTokenIds: tokenizer.idsContaining('\n'), maxNewTokens: 32 };
const batchSize = 4;
let cacheSeconds = 0;
const perDocSeconds: number[] = [];
for (const mode of ['recomputed prefix', 'cached prefix'] as const) {
  const start = performance.now();
  const shared = mode === 'cached prefix' ? await computePrefixCache(model, prefix) : prefix;
  if (mode === 'cached prefix') cacheSeconds = (performance.now() - start) / 1000;
  const outputs: string[] = [];
  for (let i = 0; i < targets.length; i += batchSize) {
    const { rows } = await generate({ model, prompts: targets.slice(i, i + batchSize), prefix: shared, sampler: greedySampler, stopping, padTokenId: 2 });
    outputs.push(...rows.map((r) => tokenizer.decode(r.tokens)));
  }
  const perDoc = (performance.now() - start) / 1000 / targets.length;
  perDocSeconds.push(perDoc);
  console.log(`${mode}: ${perDoc.toFixed(3)} s per document (prefix ${prefix.length} positions, ${targets.length} documents, batch ${batchSize}${mode === 'cached prefix' ? `, cache built once in ${cacheSeconds.toFixed(2)} s` : ''})`);
  console.log(`  first query: ${JSON.stringify(outputs[0])}`);
}
console.log(`prefix caching speed-up: ${((perDocSeconds[0] ?? 0) / (perDocSeconds[1] ?? 1)).toFixed(2)}x per document`);
await model.release();
