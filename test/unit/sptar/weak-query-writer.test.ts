import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OnnxCausalDecoder } from '../../../lib/generation/onnx-decoder.ts';
import { randomLlamaWeights, TINY_LLAMA } from '../../../lib/models/tiny-models.ts';
import { PromptTokenizer, promptParts } from '../../../lib/sptar/prompt-tokens.ts';
import { lengthSortedOrder, restoreShardOrder } from '../../../lib/sptar/length-sorted-batches.ts';
import { writeWeakQueries } from '../../../lib/sptar/weak-query-generation.ts';
import { WeakQueryWriter } from '../../../lib/sptar/weak-query-writer.ts';
import { loadTokenizerJson } from '../../../lib/tokenizers/tokenizer-files.ts';
import { DEFAULT_PROMPT_LIMITS } from '../../../lib/weak-data/index.ts';

const GPT2_TOKENIZER = new URL('../../../../shared/tokenizers/gpt2/tokenizer.json', import.meta.url).pathname;
const examples = [
  { document: 'Aspirin lowers the risk of stroke.', query: 'Does aspirin prevent stroke?' },
  { document: 'Vitamin D does not prevent colds.', query: 'Vitamin D and colds' },
];
const docs = [
  { title: 'Statins', text: 'Statins reduce LDL cholesterol in adults.' },
  { title: '', text: '   ' },
  { title: 'Sleep', text: 'Short sleep is associated with obesity in children.' },
];

describe('prompt layout', () => {
  it('splits the SPTAR template into a shared prefix and the document part', () => {
    const p = promptParts(examples, 'Doc text', DEFAULT_PROMPT_LIMITS);
    assert.equal(
      p.prefixText,
      'Document: Aspirin lowers the risk of stroke. \n Relevant Query: Does aspirin prevent stroke? \n Document: Vitamin D does not prevent colds. \n Relevant Query: Vitamin D and colds \n ',
    );
    assert.equal(p.documentText, 'Document: Doc text \n Relevant Query: ');
  });
});

describe('weak query writer on a tiny seeded LLaMA with the GPT-2 vocabulary', () => {
  let model: OnnxCausalDecoder;
  let prompts: PromptTokenizer;
  const config = { ...TINY_LLAMA, vocabSize: 50257, maxPositions: 512 };
  before(async () => {
    model = await OnnxCausalDecoder.create(randomLlamaWeights(config, 5, 0.5), config);
    const tokenizer = await loadTokenizerJson(GPT2_TOKENIZER);
    prompts = new PromptTokenizer(tokenizer, tokenizer.special.eos!, DEFAULT_PROMPT_LIMITS);
  });
  after(async () => {
    await model.release();
  });

  it('is deterministic, identical with and without the prefix cache, and records empty documents', async () => {
    const soft = new Float32Array(4 * config.hiddenSize).map((_, i) => Math.sin(i));
    const opts = { maxNewTokens: 6, batchSize: 3 };
    const cached = await new WeakQueryWriter(model, prompts, soft, examples, { ...opts, prefixCache: true }).generate(docs);
    const again = await new WeakQueryWriter(model, prompts, soft, examples, { ...opts, prefixCache: true }).generate(docs);
    const recomputed = await new WeakQueryWriter(model, prompts, soft, examples, { ...opts, prefixCache: false }).generate(docs);
    assert.deepEqual(again, cached);
    assert.deepEqual(recomputed, cached);
    assert.deepEqual(cached[1], { failure: 'empty document' });
    for (const i of [0, 2]) assert.ok(cached[i] && ('query' in cached[i]! || 'failure' in cached[i]!));
  });

  it('counts the prompt tokens of a document, and writes the same queries in length-sorted batches as in shard order', async () => {
    const writer = new WeakQueryWriter(model, prompts, undefined, examples, { maxNewTokens: 6, batchSize: 2, prefixCache: true });
    assert.equal(writer.promptTokens(docs[0]!), prompts.documentIds('Statins Statins reduce LDL cholesterol in adults.').length);
    assert.equal(writer.promptTokens(docs[1]!), 0);
    const shard = [
      { title: 'Statins', text: 'Statins reduce LDL cholesterol in adults taking them for a decade or more, in every trial that lasted.' },
      { title: '', text: 'Short sleep.' },
      { title: 'Sleep', text: 'Short sleep is associated with obesity in children and in adolescents.' },
      { title: 'Aspirin', text: 'Aspirin.' },
    ];
    const lengths = shard.map((d) => writer.promptTokens(d));
    const order = lengthSortedOrder(lengths);
    assert.deepEqual(order, [1, 3, 2, 0], `lengths ${lengths.join(' ')}`);
    const inShardOrder = await writeWeakQueries(writer, shard);
    const sorted = await writeWeakQueries(writer, order.map((p) => shard[p]!));
    assert.deepEqual(restoreShardOrder(sorted, order), inShardOrder);
  });
});
