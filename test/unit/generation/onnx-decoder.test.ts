// The generation loop on the real ONNX decoder graphs (seeded tiny LLaMA and GPT-2): batched decoding with
// padding, KV cache and a cached soft prefix must reproduce the unbatched full-recompute greedy tokens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from '../../../lib/generation/generate.ts';
import { OnnxCausalDecoder } from '../../../lib/generation/onnx-decoder.ts';
import { buildPrefixEmbeds, computePrefixCache } from '../../../lib/generation/prefix-cache.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';
import { greedySampler } from '../../../lib/generation/token-sampler.ts';
import { tinyGpt2, tinyLlama } from '../../../lib/models/tiny-models.ts';

for (const [name, tiny] of [['llama', tinyLlama(3)], ['gpt2', tinyGpt2(4)]] as const) {
  describe(`generation on the tiny ${name} ONNX decoder`, () => {
    it('batched + KV cache + prefix cache equals one-row full recompute', async () => {
      const model = await OnnxCausalDecoder.create(tiny.weights, tiny.config, ['last'], { worker: false });
      try {
        const rand = new Mulberry32(21).next;
        const vocab = tiny.config.vocabSize;
        const soft = Float32Array.from({ length: 2 * model.hiddenSize }, () => rand() - 0.5);
        const prefix = buildPrefixEmbeds(model, soft, [1, 2, 3]);
        const prompts = [[4 % vocab, 5 % vocab, 6 % vocab], [7 % vocab], [8 % vocab, 9 % vocab]];
        const stopping = { eosTokenIds: [], stopTokenIds: [], maxNewTokens: 6 };
        const expected = [];
        for (const p of prompts) {
          const { rows } = await generate({ model, prompts: [p], prefix, sampler: greedySampler, stopping, padTokenId: 0, useKvCache: false });
          expected.push(rows[0]?.tokens);
        }
        assert.ok(new Set(expected.map((e) => JSON.stringify(e))).size >= 2, `varied continuations: ${JSON.stringify(expected)}`);
        const cached = await computePrefixCache(model, prefix, 2);
        const { rows } = await generate({ model, prompts, prefix: cached, sampler: greedySampler, stopping, padTokenId: 0, prefillChunkSize: 2 });
        assert.deepEqual(rows.map((r) => r.tokens), expected);
      } finally {
        await model.release();
      }
    });
  });
}

describe('generation with the decoder in a worker thread (the default)', () => {
  it('produces the same tokens as the in-thread decoder, with a shared prefix cache', async () => {
    const tiny = tinyLlama(3);
    const local = await OnnxCausalDecoder.create(tiny.weights, tiny.config, ['last'], { worker: false });
    const threaded = await OnnxCausalDecoder.create(tiny.weights, tiny.config, ['last']);
    try {
      const rand = new Mulberry32(5).next;
      const soft = Float32Array.from({ length: 2 * local.hiddenSize }, () => rand() - 0.5);
      const prompts = [[4, 5, 6], [7], [8, 9]];
      const stopping = { eosTokenIds: [], stopTokenIds: [], maxNewTokens: 5 };
      const tokens = async (model: OnnxCausalDecoder) => {
        const prefix = await computePrefixCache(model, buildPrefixEmbeds(model, soft, [1, 2, 3]), 2);
        const { rows } = await generate({ model, prompts, prefix, sampler: greedySampler, stopping, padTokenId: 0 });
        return rows.map((r) => r.tokens);
      };
      assert.deepEqual(await tokens(threaded), await tokens(local));
    } finally {
      await local.release();
      await threaded.release();
    }
  });
});
