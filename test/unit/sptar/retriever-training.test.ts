import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchesWithoutDuplicates, trainRetriever, type RetrieverObjective } from '../../../lib/sptar/retriever-training.ts';

const pair = (q: string, d: string) => ({ queryId: q, docId: d });

describe('retriever training loop', () => {
  it('batches never repeat a query or a document', () => {
    const pairs = [pair('q1', 'a'), pair('q2', 'a'), pair('q1', 'b'), pair('q3', 'c'), pair('q4', 'd')];
    assert.deepEqual(batchesWithoutDuplicates(pairs, [0, 1, 2, 3, 4], 3), [
      [pair('q1', 'a'), pair('q3', 'c'), pair('q4', 'd')],
      [pair('q2', 'a'), pair('q1', 'b')],
    ]);
  });

  it('descends the loss, selects the epoch by dev score and clips gradients', async () => {
    // One weight w; each pair wants w = 1; loss = (w-1)^2 summed over the batch. The dev score peaks at w = 1.
    const seenNorms: number[] = [];
    const returned: Float32Array[] = [];
    const objective: RetrieverObjective = {
      async lossAndGradients(ws, batch) {
        const w = ws[0]![0]!;
        seenNorms.push(Math.abs(2 * (w - 1) * batch.length));
        const g = new Float32Array([2 * (w - 1) * batch.length]);
        returned.push(g);
        return { loss: (w - 1) ** 2 * batch.length, gradients: [g] };
      },
      async devScore(ws) {
        return -Math.abs(ws[0]![0]! - 1);
      },
    };
    const pairs = Array.from({ length: 8 }, (_, i) => pair(`q${i}`, `d${i}`));
    const { best, curve } = await trainRetriever([new Float32Array([-3])], pairs, objective, {
      epochs: 20,
      batchSize: 4,
      learningRate: 0.2,
      weightDecay: 0,
      warmupFraction: 0.1,
      maxGradNorm: 1,
      shuffle: (n) => Array.from({ length: n }, (_, i) => i),
    });
    assert.equal(curve.length, 21);
    assert.ok(curve[20]!.trainLoss < curve[1]!.trainLoss / 10, `loss ${curve[1]!.trainLoss} -> ${curve[20]!.trainLoss}`);
    assert.equal(best.devScore, Math.max(...curve.map((c) => c.devScore)));
    assert.ok(Math.abs(best.weights[0]![0]! - 1) < 0.2);
    // The first gradient (|2*(-4)*4| = 32) was clipped in place to norm 1 before the optimizer saw it.
    assert.equal(seenNorms[0], 32);
    assert.ok(Math.abs(Math.abs(returned[0]![0]!) - 1) < 1e-5, `clipped to ${returned[0]![0]}`);
    assert.ok(returned.every((g) => Math.abs(g[0]!) <= 1 + 1e-5));
  });
  it('selects among trained epochs unless the starting encoder may compete', async () => {
    // The dev score falls as w leaves its start, so epoch 0 has the best dev score.
    const objective: RetrieverObjective = {
      async lossAndGradients(ws, batch) {
        const w = ws[0]![0]!;
        return { loss: (w - 1) ** 2 * batch.length, gradients: [new Float32Array([2 * (w - 1) * batch.length])] };
      },
      async devScore(ws) {
        return -Math.abs(ws[0]![0]! + 3);
      },
    };
    const pairs = Array.from({ length: 4 }, (_, i) => pair(`q${i}`, `d${i}`));
    const options = { epochs: 3, batchSize: 2, learningRate: 0.1, weightDecay: 0, warmupFraction: 0, maxGradNorm: 10, shuffle: (n: number) => Array.from({ length: n }, (_, i) => i) };
    const trained = await trainRetriever([new Float32Array([-3])], pairs, objective, options);
    assert.deepEqual(trained.curve.map((c) => c.epoch), [0, 1, 2, 3]);
    assert.equal(trained.curve[0]!.devScore + 0, 0);
    assert.equal(trained.best.epoch, 1); // the least-moved trained epoch
    assert.equal(trained.best.devScore, trained.curve[1]!.devScore);
    assert.ok(trained.best.devScore < 0);
    const withStart = await trainRetriever([new Float32Array([-3])], pairs, objective, { ...options, selectStartingEncoder: true });
    assert.equal(withStart.best.epoch, 0);
    assert.equal(withStart.best.weights[0]![0], -3);
  });
});
