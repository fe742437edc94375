// Tiny seeded BERT encoder: pooled embeddings against the plain-TypeScript reference and a pinned fixture, padding
// invariance, the multiple-negatives ranking loss, and its gradient for every weight against finite differences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEncoderGraph, buildEncoderTrainingGraph } from '../../../lib/models/encoder-graphs.ts';
import { tinyBert } from '../../../lib/models/tiny-models.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';
import { hostTensor, type HostTensor } from '../../../lib/onnx/session.ts';
import { f64, ints, maxAbsDiff, numericGradient, session } from './graph-runs.ts';
import { referenceBertPooled } from './reference-models.ts';

const bert = tinyBert(3);
const IDS = [2, 7, 1, 9];
// Reference pooled embedding of IDS, first 4 entries (computed once, pinned).
const PINNED = [0.549186, -0.209443, 0.166177, -0.525922];

function encodeFeeds(ids: number[], mask: number[], batch: number): Record<string, HostTensor> {
  const seq = ids.length / batch;
  return { input_ids: ints([batch, seq], ids), attention_mask: ints([batch, seq], mask), token_type_ids: ints([batch, seq], ids.map(() => 0)) };
}

const norm = (v: number[]) => {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / n);
};

describe('BERT encoder graphs (tiny, seeded)', () => {
  it('pooled embedding matches the reference and the pinned fixture', async () => {
    const reference = referenceBertPooled(bert.config, bert.weights, IDS);
    assert.ok(maxAbsDiff(reference.slice(0, 4), PINNED) < 1e-5);
    const s = await session(buildEncoderGraph(bert.weights, bert.config, { dtype: 'float64' }));
    const out = await s.run(encodeFeeds(IDS, [1, 1, 1, 1], 1));
    // float64 graphs use the A&S erf (|error| < 1.5e-7), hence 1e-6 rather than 1e-12.
    assert.ok(maxAbsDiff(out.sentence_embedding?.data as Float64Array, reference) < 1e-6);
  });

  it('float32 graph (native Erf) matches the reference to 1e-5, normalised output has unit length', async () => {
    const s = await session(buildEncoderGraph(bert.weights, bert.config, { dtype: 'float32', normalize: true }), 'float32');
    const out = await s.run(encodeFeeds(IDS, [1, 1, 1, 1], 1));
    assert.ok(maxAbsDiff(out.sentence_embedding?.data as Float32Array, norm(referenceBertPooled(bert.config, bert.weights, IDS))) < 1e-5);
  });

  it('padding does not change a sequence embedding', async () => {
    const s = await session(buildEncoderGraph(bert.weights, bert.config, { dtype: 'float64' }));
    const out = await s.run(encodeFeeds([...IDS, 5, 3, 0, 0], [1, 1, 1, 1, 1, 1, 0, 0], 2));
    const data = out.sentence_embedding?.data as Float64Array;
    const h = bert.config.hiddenSize;
    assert.ok(maxAbsDiff(data.subarray(0, h), referenceBertPooled(bert.config, bert.weights, IDS)) < 1e-6);
    assert.ok(maxAbsDiff(data.subarray(h), referenceBertPooled(bert.config, bert.weights, [5, 3])) < 1e-6);
  });

  const queries = [[2, 7, 1], [4, 4, 0], [9, 3, 0]];
  const queryMask = [1, 1, 1, 1, 1, 0, 1, 1, 0];
  const docs = [[5, 6, 8, 1], [10, 2, 0, 0], [12, 13, 14, 0]];
  const docMask = [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0];

  function trainingFeeds(names: string[], qIds = queries, qMask = queryMask, dIds = docs, dMask = docMask): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {
      query_input_ids: ints([qIds.length, 3], qIds.flat()),
      query_attention_mask: ints([qIds.length, 3], qMask),
      doc_input_ids: ints([dIds.length, 4], dIds.flat()),
      doc_attention_mask: ints([dIds.length, 4], dMask),
    };
    for (const n of names) {
      const t = bert.weights.get(n);
      if (!t) throw new Error(n);
      feeds[n] = hostTensor('float64', t.dims, Float64Array.from(t.data));
    }
    return feeds;
  }

  it('multiple-negatives ranking loss equals the reference (cos x 20, in-batch negatives)', async () => {
    const { graph, weightNames } = buildEncoderTrainingGraph(bert.weights, bert.config, { dtype: 'float64' });
    assert.equal(weightNames.length, bert.weights.size);
    const s = await session(graph);
    const out = await s.run(trainingFeeds(weightNames), ['loss']);
    const q = queries.map((ids, i) => norm(referenceBertPooled(bert.config, bert.weights, ids.filter((_, j) => queryMask[i * 3 + j]))));
    const d = docs.map((ids, i) => norm(referenceBertPooled(bert.config, bert.weights, ids.filter((_, j) => docMask[i * 4 + j]))));
    let loss = 0;
    q.forEach((qi, i) => {
      const scores = d.map((dj) => 20 * dj.reduce((a, x, k) => a + x * (qi[k] as number), 0));
      const lse = Math.log(scores.reduce((a, v) => a + Math.exp(v), 0));
      loss += lse - (scores[i] as number);
    });
    assert.ok(Math.abs((out.loss?.data[0] as number) - loss / 3) < 1e-5);
  });

  it('hard negatives: documents after the positives are negatives of every query, never positives', async () => {
    const { graph, weightNames } = buildEncoderTrainingGraph(bert.weights, bert.config, { dtype: 'float64' });
    const s = await session(graph);
    // Two queries, their two positives, then one hard negative (the third document).
    const out = await s.run(trainingFeeds(weightNames, queries.slice(0, 2), queryMask.slice(0, 6)), ['loss']);
    const q = queries.slice(0, 2).map((ids, i) => norm(referenceBertPooled(bert.config, bert.weights, ids.filter((_, j) => queryMask[i * 3 + j]))));
    const d = docs.map((ids, i) => norm(referenceBertPooled(bert.config, bert.weights, ids.filter((_, j) => docMask[i * 4 + j]))));
    let loss = 0;
    q.forEach((qi, i) => {
      const scores = d.map((dj) => 20 * dj.reduce((a, x, k) => a + x * (qi[k] as number), 0));
      const lse = Math.log(scores.reduce((a, v) => a + Math.exp(v), 0));
      loss += lse - (scores[i] as number);
    });
    assert.ok(Math.abs((out.loss?.data[0] as number) - loss / 2) < 1e-5, `${out.loss?.data[0]} vs ${loss / 2}`);
    // Without the negative the loss is the in-batch one over two documents, which is smaller.
    const inBatch = await s.run(trainingFeeds(weightNames, queries.slice(0, 2), queryMask.slice(0, 6), docs.slice(0, 2), docMask.slice(0, 8)), ['loss']);
    assert.ok((inBatch.loss?.data[0] as number) < (out.loss?.data[0] as number));
  });

  for (const variant of ['in-batch negatives', 'a hard negative'] as const) it(`gradient of every encoder weight matches central finite differences with ${variant} (float64, rel. error < 1e-6)`, async (t) => {
    const { graph, weightNames } = buildEncoderTrainingGraph(bert.weights, bert.config, { dtype: 'float64' });
    const s = await session(graph);
    const feeds = variant === 'in-batch negatives' ? trainingFeeds(weightNames) : trainingFeeds(weightNames, queries.slice(0, 2), queryMask.slice(0, 6));
    const out = await s.run(feeds);
    const rng = new Mulberry32(5);
    // Errors are relative to the largest gradient entry of the whole model. (Key biases have an exactly zero
    // gradient: softmax ignores a shift shared by a whole row of scores; their numeric values are pure rounding.)
    let scale = 0;
    for (const name of weightNames) for (const v of out[`grad.${name}`]?.data as Float64Array) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    let checked = 0;
    for (const name of weightNames) {
      const analytic = out[`grad.${name}`]?.data as Float64Array;
      assert.equal(analytic.length, bert.weights.get(name)?.data.length);
      // Three entries per tensor (all 37 tensors) keep the check fast while covering every weight's path.
      const picks = [0, 1, 2].map(() => rng.int(analytic.length));
      const numeric = await numericGradient(s, feeds, name, picks);
      picks.forEach((p, k) => {
        worst = Math.max(worst, Math.abs((analytic[p] as number) - (numeric[k] as number)) / scale);
      });
      checked += picks.length;
    }
    t.diagnostic(`max relative error ${worst.toExponential(2)} over ${checked} entries of ${weightNames.length} tensors`);
    assert.ok(worst < 1e-6, `relative error ${worst}`);
  });
});
