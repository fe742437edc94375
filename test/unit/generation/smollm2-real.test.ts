// Real SmolLM2-135M (GGUF weights -> ONNX step graph): perplexity on held-out SciFact abstracts and a greedy
// continuation. Runs only where the model is installed; about 25 s.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { generate } from '../../../lib/generation/generate.ts';
import { OnnxCausalDecoder } from '../../../lib/generation/onnx-decoder.ts';
import { perplexity } from '../../../lib/generation/perplexity.ts';
import { greedySampler } from '../../../lib/generation/token-sampler.ts';
import { tokenizerFromGgufMetadata } from '../../../lib/tokenizers/gguf-tokenizer.ts';
import type { TextTokenizer } from '../../../lib/tokenizers/text-tokenizer.ts';
import { loadGguf } from '../../../lib/weights/gguf.ts';

const SMOLLM2 = new URL('../../../models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const CORPUS = new URL('../../../../shared/data/scifact/corpus.jsonl', import.meta.url).pathname;

describe('SmolLM2-135M on the ONNX engine', { skip: existsSync(SMOLLM2) ? false : 'SmolLM2 GGUF not installed' }, () => {
  let model: OnnxCausalDecoder;
  let tokenizer: TextTokenizer;
  before(async () => {
    const loaded = await loadGguf(SMOLLM2);
    tokenizer = tokenizerFromGgufMetadata(loaded.tokenizerMetadata, SMOLLM2);
    model = await OnnxCausalDecoder.create(loaded.weights, loaded.config, ['all']);
  });
  after(async () => {
    await model.release();
  });

  it('has a sane perplexity on held-out SciFact abstracts', async () => {
    // The last documents of the corpus: held out from every sample the pipeline draws first.
    const docs = readFileSync(CORPUS, 'utf8').trim().split('\n').slice(-4).map((l) => JSON.parse(l) as { title: string; text: string });
    const result = await perplexity(model, docs.map((d) => tokenizer.encode(`${d.title}\n${d.text}`).slice(0, 192)));
    console.log(`SmolLM2 perplexity on ${result.tokens} SciFact tokens: ${result.perplexity.toFixed(2)}`);
    // A 135M model on scientific abstracts lands around 10-40; broken rotary or weights give hundreds.
    assert.ok(result.perplexity > 5 && result.perplexity < 40, `perplexity ${result.perplexity}`);
  });

  it('continues an English prompt with English', async () => {
    const prompt = tokenizer.encode('The capital of France is');
    const { rows } = await generate({
      model,
      prompts: [prompt],
      sampler: greedySampler,
      stopping: { eosTokenIds: [2], stopTokenIds: tokenizer.idsContaining('\n'), maxNewTokens: 12 },
      padTokenId: 2,
    });
    const text = tokenizer.decode(rows[0]?.tokens ?? []);
    console.log(`greedy continuation: ${JSON.stringify(text)}`);
    assert.match(text, /Paris/);
  });
});
