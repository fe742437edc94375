import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CausalDecoder } from '../../../lib/generation/decoder-step.ts';
import { generate } from '../../../lib/generation/generate.ts';
import { broadcastCache, selectCacheRows } from '../../../lib/generation/kv-cache.ts';
import { buildPrefixEmbeds, computePrefixCache, type PrefixEmbeds } from '../../../lib/generation/prefix-cache.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';
import { argmax, createSampler, greedySampler } from '../../../lib/generation/token-sampler.ts';
import { ReferenceDecoder } from './reference-decoder.ts';

const NEWLINE = 7;
const EOS = 0;

/** Independent oracle: one row, no padding, no cache, full recompute each step. */
async function oracleGreedy(model: CausalDecoder, prefix: PrefixEmbeds | undefined, prompt: readonly number[], maxNew: number, stops: readonly number[]): Promise<number[]> {
  const h = model.hiddenSize;
  const out: number[] = [];
  const tokens = [...prompt];
  for (let t = 0; t < maxNew; t++) {
    const tokenEmbeds = model.embed(tokens);
    const p = prefix?.length ?? 0;
    const embeds = new Float32Array((p + tokens.length) * h);
    if (prefix) embeds.set(prefix.embeds);
    embeds.set(tokenEmbeds, p * h);
    const n = p + tokens.length;
    const { logits } = await model.step({
      batchSize: 1,
      seqLen: n,
      inputsEmbeds: embeds,
      attentionMask: new Int32Array(n).fill(1),
      positionIds: Int32Array.from({ length: n }, (_, i) => i),
      past: undefined,
      logitsFor: 'all',
    });
    const next = argmax(logits.subarray((n - 1) * model.vocabSize, n * model.vocabSize));
    if (stops.includes(next)) break;
    out.push(next);
    tokens.push(next);
  }
  return out;
}

const stopping = (maxNewTokens: number) => ({ eosTokenIds: [EOS], stopTokenIds: [NEWLINE], maxNewTokens });

describe('generation loop on the reference decoder', () => {
  it('counts up from the last token and stops at the newline token (exact sequences)', async () => {
    const model = new ReferenceDecoder({ vocabSize: 10, alpha: 30 });
    const { rows } = await generate({ model, prompts: [[3], [5], [1, 2, 3], [8]], sampler: greedySampler, stopping: stopping(5), padTokenId: EOS });
    assert.deepEqual(rows, [
      { tokens: [4, 5, 6], finish: 'stop-token' }, // 7 is the newline token
      { tokens: [6], finish: 'stop-token' },
      { tokens: [4, 5, 6], finish: 'stop-token' },
      { tokens: [9], finish: 'eos' }, // 9 + 1 wraps to 0 = EOS
    ]);
    const budget = await generate({ model, prompts: [[1]], sampler: greedySampler, stopping: stopping(2), padTokenId: EOS });
    assert.deepEqual(budget.rows, [{ tokens: [2, 3], finish: 'max-new-tokens' }]);
  });

  it('masks padding: a short row next to a long one sees only its own tokens', async () => {
    // alpha = 0: next = 1 + most frequent visible token. Row 2 has three padding columns (EOS = 0); were they
    // visible, the most frequent token would be 0 and the prediction 1.
    const model = new ReferenceDecoder({ vocabSize: 10, alpha: 0 });
    const { rows } = await generate({ model, prompts: [[5, 5, 5, 5], [3]], sampler: greedySampler, stopping: stopping(1), padTokenId: EOS });
    assert.deepEqual(rows.map((r) => r.tokens), [[6], [4]]);
  });

  it('uses a one-position step per new token with the KV cache, and drops finished rows', async () => {
    const model = new ReferenceDecoder({ vocabSize: 10, alpha: 30 });
    await generate({ model, prompts: [[5], [1, 2]], sampler: greedySampler, stopping: stopping(10), padTokenId: EOS });
    // prefill (2 columns, batch 2) -> 6 / 3; row 0 then makes 7 = stop; row 1 continues alone: 4, 5, 6, 7.
    assert.deepEqual(model.calls, [
      { batchSize: 2, seqLen: 2, pastLen: 0, prefixLen: 0 },
      { batchSize: 2, seqLen: 1, pastLen: 2, prefixLen: 0 },
      { batchSize: 1, seqLen: 1, pastLen: 3, prefixLen: 0 },
      { batchSize: 1, seqLen: 1, pastLen: 4, prefixLen: 0 },
      { batchSize: 1, seqLen: 1, pastLen: 5, prefixLen: 0 },
    ]);
  });

  it('matches the unbatched, uncached oracle with a soft prefix, with and without caches', async () => {
    const model = new ReferenceDecoder({ vocabSize: 12, alpha: 0.1, gamma: 0.3, rho: 0.3, mixing: 1, embedNoise: 0.4, seed: 5 });
    const rand = new Mulberry32(11).next;
    const soft = Float32Array.from({ length: 3 * model.hiddenSize }, () => rand() - 0.5);
    const prefix = buildPrefixEmbeds(model, soft, [4, 9, 2]);
    assert.equal(prefix.length, 6);
    const prompts = [[3, 8, 8, 1], [10], [2, 2], [5, 11, 6, 6, 9, 1]];
    const stops = { eosTokenIds: [EOS], stopTokenIds: [], maxNewTokens: 12 };
    const expected = await Promise.all(prompts.map((p) => oracleGreedy(model, prefix, p, 12, [EOS])));
    assert.ok(new Set(expected.flat()).size >= 4, `the fixture produces varied continuations: ${JSON.stringify(expected)}`);
    const cached = await computePrefixCache(model, prefix, 4);
    const variants = [
      { prefix, useKvCache: true, prefillChunkSize: 128 },
      { prefix, useKvCache: true, prefillChunkSize: 3 },
      { prefix, useKvCache: false },
      { prefix: cached, useKvCache: true, prefillChunkSize: 2 },
      { prefix: cached, useKvCache: false },
    ];
    for (const v of variants) {
      const { rows } = await generate({ model, prompts, sampler: greedySampler, stopping: stops, padTokenId: EOS, ...v });
      assert.deepEqual(rows.map((r) => r.tokens), expected, JSON.stringify({ kind: v.prefix.kind, cache: v.useKvCache }));
    }
  });

  it('computes the prefix once and reuses it for every batch', async () => {
    const model = new ReferenceDecoder({ vocabSize: 10, alpha: 30 });
    const prefix = await computePrefixCache(model, buildPrefixEmbeds(model, undefined, [1, 1, 1, 1, 1]), 8);
    model.calls.length = 0;
    const first = await generate({ model, prompts: [[2], [4]], prefix, sampler: greedySampler, stopping: stopping(1), padTokenId: EOS });
    const second = await generate({ model, prompts: [[5]], prefix, sampler: greedySampler, stopping: stopping(1), padTokenId: EOS });
    assert.deepEqual([...first.rows, ...second.rows].map((r) => r.tokens), [[3], [5], [6]]);
    // Each batch only processes its own prompt column; the 5 prefix positions come from the one shared batch-1
    // cache, not from a per-row past.
    assert.deepEqual(model.calls, [
      { batchSize: 2, seqLen: 1, pastLen: 0, prefixLen: 5 },
      { batchSize: 1, seqLen: 1, pastLen: 0, prefixLen: 5 },
    ]);
  });

  it('seeded sampling is reproducible and follows the seed', async () => {
    const model = new ReferenceDecoder({ vocabSize: 12, alpha: 0.2, gamma: 1, embedNoise: 0.5, seed: 3 });
    const run = async (seed: number) => {
      const sampler = createSampler({ temperature: 0.2, topK: 4, random: new Mulberry32(seed).next });
      const { rows } = await generate({ model, prompts: [[3, 4], [9]], sampler, stopping: { eosTokenIds: [], stopTokenIds: [], maxNewTokens: 16 }, padTokenId: EOS });
      return rows.map((r) => r.tokens);
    };
    const a = await run(1);
    assert.deepEqual(await run(1), a);
    assert.notDeepEqual(await run(2), a);
    assert.ok(a.every((row) => row.length === 16));
  });

  it('rejects empty prompts', async () => {
    const model = new ReferenceDecoder({ vocabSize: 10, alpha: 1 });
    await assert.rejects(generate({ model, prompts: [[1], []], sampler: greedySampler, stopping: stopping(1), padTokenId: EOS }), /prompt 1 is empty/);
  });
});

describe('KV cache rows', () => {
  it('broadcasts a batch-1 cache and selects rows', () => {
    const t = (batch: number, values: number[]) => ({ dims: [batch, 1, 2, 1] as [number, number, number, number], data: Float32Array.from(values) });
    const one = [{ key: t(1, [1, 2]), value: t(1, [3, 4]) }];
    const three = broadcastCache(one, 3);
    assert.deepEqual(Array.from(three[0]?.key.data ?? []), [1, 2, 1, 2, 1, 2]);
    assert.deepEqual(three[0]?.value.dims, [3, 1, 2, 1]);
    const mixed = [{ key: t(3, [1, 2, 3, 4, 5, 6]), value: t(3, [7, 8, 9, 10, 11, 12]) }];
    const picked = selectCacheRows(mixed, [2, 0]);
    assert.deepEqual(Array.from(picked[0]?.key.data ?? []), [5, 6, 1, 2]);
    assert.deepEqual(Array.from(picked[0]?.value.data ?? []), [11, 12, 7, 8]);
    assert.throws(() => broadcastCache(mixed, 2), /expects a batch-1 cache, got batch 3/);
  });
});
