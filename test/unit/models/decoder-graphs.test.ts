// Tiny seeded LLaMA and GPT-2 decoders: logits pinned and checked against the plain-TypeScript reference, cache
// and padding equivalences, and the soft-prompt loss and its gradient against finite differences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDecoderStepGraph, buildEmbeddingGraph, buildSoftPromptLossGraph, type DecoderConfig } from '../../../lib/models/decoder-graphs.ts';
import type { WeightMap } from '../../../lib/models/model-config.ts';
import { tinyGpt2, tinyLlama } from '../../../lib/models/tiny-models.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';
import { hostTensor, type HostTensor } from '../../../lib/onnx/session.ts';
import { emptyPast, f64, ints, kvDims, maxAbsDiff, numericGradient, prefixFeeds, presentAsPast, presentAsPrefix, session } from './graph-runs.ts';
import { referenceGpt2Embeds, referenceGpt2Logits, referenceLlamaEmbeds, referenceLlamaLogits } from './reference-models.ts';

const IDS = [3, 1, 4, 1, 5];

interface Case {
  readonly name: string;
  readonly model: { config: DecoderConfig; weights: WeightMap };
  readonly embeds: (ids: readonly number[]) => number[][];
  readonly logits: (embeds: number[][]) => number[][];
  /** Reference logits of IDS, first 4 vocabulary entries at positions 0 and 4 (computed once, pinned). */
  readonly pinned: { readonly first: number[]; readonly last: number[] };
}

const llama = tinyLlama(1);
const gpt2 = tinyGpt2(2);
const CASES: Case[] = [
  {
    name: 'llama',
    model: llama,
    embeds: (ids) => referenceLlamaEmbeds(llama.config, llama.weights, ids),
    logits: (e) => referenceLlamaLogits(llama.config, llama.weights, e),
    pinned: { first: [0.067337, -0.222204, -0.395841, 1.184874], last: [1.346744, -0.5586, 0.861369, 0.163586] },
  },
  {
    name: 'gpt2',
    model: gpt2,
    embeds: (ids) => referenceGpt2Embeds(gpt2.config, gpt2.weights, ids),
    logits: (e) => referenceGpt2Logits(gpt2.config, gpt2.weights, e),
    pinned: { first: [-0.031435, -0.981372, -0.202179, 0.250008], last: [-1.087507, -0.994162, -0.417553, -0.581884] },
  },
];

function stepFeeds(c: Case, embeds: number[][], mask: number[], positions: number[], batch = 1, past?: Record<string, HostTensor>): Record<string, HostTensor> {
  const h = c.model.config.hiddenSize;
  const seq = embeds.length / batch;
  return {
    inputs_embeds: f64([batch, seq, h], embeds.flat()),
    attention_mask: ints([batch, mask.length / batch], mask),
    position_ids: ints([batch, seq], positions),
    ...(past ?? emptyPast(c.model.config, batch, 'float64')),
  };
}

for (const c of CASES) {
  const V = c.model.config.vocabSize;
  describe(`${c.name} decoder graphs (tiny, seeded)`, () => {
    it('logits match the reference implementation and the pinned fixture', async () => {
      const embeds = c.embeds(IDS);
      const reference = c.logits(embeds);
      for (let k = 0; k < 4; k++) {
        assert.ok(Math.abs((reference[0]?.[k] as number) - (c.pinned.first[k] as number)) < 1e-5);
        assert.ok(Math.abs((reference[4]?.[k] as number) - (c.pinned.last[k] as number)) < 1e-5);
      }
      const s = await session(buildDecoderStepGraph(c.model.weights, c.model.config, { dtype: 'float64' }));
      const out = await s.run(stepFeeds(c, embeds, [1, 1, 1, 1, 1], [0, 1, 2, 3, 4]));
      assert.deepEqual(out.logits?.dims, [1, 5, V]);
      assert.ok(maxAbsDiff(out.logits?.data as Float64Array, reference.flat()) < 1e-12);
    });

    it('float32 graph agrees with the float64 reference to 1e-5', async () => {
      const embeds = c.embeds(IDS);
      const s = await session(buildDecoderStepGraph(c.model.weights, c.model.config, { dtype: 'float32' }), 'float32');
      const f = stepFeeds(c, embeds, [1, 1, 1, 1, 1], [0, 1, 2, 3, 4]);
      const feeds: Record<string, HostTensor> = {};
      for (const [k, t] of Object.entries(f)) feeds[k] = t.dtype === 'float64' ? hostTensor('float32', t.dims, Float32Array.from(t.data as Float64Array)) : t;
      const out = await s.run(feeds);
      assert.ok(maxAbsDiff(out.logits?.data as Float32Array, c.logits(embeds).flat()) < 1e-5);
    });

    it('a step over the cache equals the full forward pass; "last" logits are the final row', async () => {
      const embeds = c.embeds(IDS);
      const full = c.logits(embeds);
      const s = await session(buildDecoderStepGraph(c.model.weights, c.model.config, { dtype: 'float64' }));
      const prefill = await s.run(stepFeeds(c, embeds.slice(0, 3), [1, 1, 1], [0, 1, 2]));
      assert.deepEqual(prefill['present.0.key']?.dims.slice(2), [3, c.model.config.architecture === 'llama' ? llama.config.headDim : 4]);
      const step = await s.run(stepFeeds(c, embeds.slice(3), [1, 1, 1, 1, 1], [3, 4], 1, presentAsPast(c.model.config, prefill)));
      assert.ok(maxAbsDiff(step.logits?.data as Float64Array, full.slice(3).flat()) < 1e-12);
      const lastOnly = await session(buildDecoderStepGraph(c.model.weights, c.model.config, { dtype: 'float64', logits: 'last' }));
      const out = await lastOnly.run(stepFeeds(c, embeds, [1, 1, 1, 1, 1], [0, 1, 2, 3, 4]));
      assert.deepEqual(out.logits?.dims, [1, 1, V]);
      assert.ok(maxAbsDiff(out.logits?.data as Float64Array, full[4] as number[]) < 1e-12);
    });

    it('a batch-1 shared prefix attended by every row equals each row\'s full forward pass', async () => {
      const prefixIds = [3, 1, 4];
      const rowA = [1, 5];
      const rowB = [6];
      const s = await session(buildDecoderStepGraph(c.model.weights, c.model.config, { dtype: 'float64', sharedPrefix: true }));
      const noPrefix = prefixFeeds(c.model.config, 0);
      const prefill = await s.run({ ...stepFeeds(c, c.embeds(prefixIds), [1, 1, 1], [0, 1, 2]), ...noPrefix });
      // Row B is left-padded by one column; its padding is masked and shares the next position.
      const shared = presentAsPrefix(c.model.config, prefill);
      const embeds = [...c.embeds(rowA), ...c.embeds([0]), ...c.embeds(rowB)];
      const first = await s.run({ ...stepFeeds(c, embeds, [1, 1, 1, 1, 1, 1, 1, 1, 0, 1], [3, 4, 3, 3], 2), ...shared });
      assert.deepEqual(first['present.0.key']?.dims.slice(0, 3), [2, kvDims(c.model.config).heads, 2]);
      const data = first.logits?.data as Float64Array;
      assert.ok(maxAbsDiff(data.subarray(0, 2 * V), c.logits(c.embeds([...prefixIds, ...rowA])).slice(3).flat()) < 1e-12);
      assert.ok(maxAbsDiff(data.subarray(3 * V, 4 * V), c.logits(c.embeds([...prefixIds, ...rowB]))[3] as number[]) < 1e-12);
      // A further step: the shared prefix plus each row's own past.
      const next = [...c.embeds([2]), ...c.embeds([7])];
      const second = await s.run({ ...stepFeeds(c, next, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1], [5, 4], 2, presentAsPast(c.model.config, first)), ...shared });
      const out = second.logits?.data as Float64Array;
      assert.ok(maxAbsDiff(out.subarray(0, V), c.logits(c.embeds([...prefixIds, ...rowA, 2]))[5] as number[]) < 1e-12);
      assert.ok(maxAbsDiff(out.subarray(V, 2 * V), c.logits(c.embeds([...prefixIds, ...rowB, 7]))[4] as number[]) < 1e-12);
    });

    it('left padding in a batch leaves each sequence unchanged', async () => {
      const a = c.embeds(IDS);
      const bIds = [2, 6];
      const bEmb = c.embeds(bIds);
      const pad = c.embeds([0, 0, 0]);
      const s = await session(buildDecoderStepGraph(c.model.weights, c.model.config, { dtype: 'float64' }));
      const out = await s.run(stepFeeds(c, [...a, ...pad, ...bEmb], [1, 1, 1, 1, 1, 0, 0, 0, 1, 1], [0, 1, 2, 3, 4, 0, 0, 0, 0, 1], 2));
      const data = out.logits?.data as Float64Array;
      assert.ok(maxAbsDiff(data.subarray(0, 5 * V), c.logits(a).flat()) < 1e-12);
      assert.ok(maxAbsDiff(data.subarray(8 * V, 10 * V), c.logits(bEmb).flat()) < 1e-12);
    });

    it('the embedding graph looks up token rows', async () => {
      const s = await session(buildEmbeddingGraph(c.model.weights, c.model.config, { dtype: 'float64' }));
      const out = await s.run({ input_ids: ints([1, 5], IDS) });
      assert.ok(maxAbsDiff(out.inputs_embeds?.data as Float64Array, c.embeds(IDS).flat()) < 1e-15);
    });

    const l = 3;
    const h = c.model.config.hiddenSize;
    const rng = new Mulberry32(11);
    const prompt = Array.from({ length: l * h }, () => rng.uniform(0.5));
    // Two examples, the second right-padded; labels on the last tokens (the "query + EOS" part).
    const batchIds = [3, 1, 4, 1, 5, 2, 6, 7, 0, 0];
    const labelMask = [0, 0, 1, 1, 1, 0, 1, 1, 0, 0];
    const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];

    function referenceLoss(ids: number[], labels: number[]): { sum: number; count: number } {
      const rows = [...Array.from({ length: l }, (_, i) => prompt.slice(i * h, (i + 1) * h)), ...c.embeds(ids)];
      const logits = c.logits(rows);
      let sum = 0;
      let count = 0;
      ids.forEach((id, j) => {
        if (!labels[j]) return;
        const row = logits[l + j - 1] as number[];
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        sum += lse - (row[id] as number);
        count++;
      });
      return { sum, count };
    }

    it('soft-prompt loss equals the reference cross-entropy over labelled positions (padded batch)', async () => {
      const s = await session(buildSoftPromptLossGraph(c.model.weights, c.model.config, { dtype: 'float64', promptLength: l, gradient: false }));
      const out = await s.run({ soft_prompt: f64([l, h], prompt), input_ids: ints([2, 5], batchIds), label_mask: f64([2, 5], labelMask), attention_mask: ints([2, l + 5], mask) });
      const r0 = referenceLoss(batchIds.slice(0, 5), labelMask.slice(0, 5));
      const r1 = referenceLoss(batchIds.slice(5, 8), labelMask.slice(5, 8));
      assert.ok(maxAbsDiff(out.loss_sum_per_example?.data as Float64Array, [r0.sum, r1.sum]) < 1e-12);
      assert.deepEqual(Array.from(out.label_count_per_example?.data as Float64Array), [3, 2]);
      assert.ok(Math.abs((out.loss?.data[0] as number) - (r0.sum + r1.sum) / 5) < 1e-12);
    });

    it('soft-prompt gradient matches central finite differences (float64, rel. error < 1e-6)', async (t) => {
      const s = await session(buildSoftPromptLossGraph(c.model.weights, c.model.config, { dtype: 'float64', promptLength: l, gradient: true }));
      const feeds = { soft_prompt: f64([l, h], prompt), input_ids: ints([2, 5], batchIds), label_mask: f64([2, 5], labelMask), attention_mask: ints([2, l + 5], mask) };
      const out = await s.run(feeds);
      const analytic = out.grad_soft_prompt?.data as Float64Array;
      const all = [...Array(l * h).keys()];
      const numeric = await numericGradient(s, feeds, 'soft_prompt', all);
      const scale = Math.max(...numeric.map(Math.abs));
      const err = maxAbsDiff(analytic, numeric) / scale;
      t.diagnostic(`max relative error ${err.toExponential(2)} over ${all.length} entries`);
      assert.ok(scale > 1e-3, 'the gradient is not trivially zero');
      assert.ok(err < 1e-6, `relative error ${err}`);
    });

    it('promptLength 0 is the plain causal-LM loss (perplexity)', async () => {
      const s = await session(buildSoftPromptLossGraph(c.model.weights, c.model.config, { dtype: 'float64', promptLength: 0, gradient: false }));
      const out = await s.run({ input_ids: ints([1, 5], IDS), label_mask: f64([1, 5], [1, 1, 1, 1, 1]), attention_mask: ints([1, 5], [1, 1, 1, 1, 1]) });
      const logits = c.logits(c.embeds(IDS));
      let sum = 0;
      for (let j = 1; j < 5; j++) {
        const row = logits[j - 1] as number[];
        sum += Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - (row[IDS[j] as number] as number);
      }
      assert.ok(Math.abs((out.loss?.data[0] as number) - sum / 4) < 1e-12);
    });
  });
}
