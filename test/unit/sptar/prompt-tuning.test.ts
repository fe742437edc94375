import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tunePrompt, type PromptObjective, type PromptTuningCheckpoint } from '../../../lib/sptar/prompt-tuning.ts';

// A small exact problem: each example is a target vector t, loss = mean((p - t)^2), gradient = 2 (p - t) / n.
type Target = Float32Array;
const objective: PromptObjective<Target> = {
  async lossAndGradient(p, t) {
    const g = new Float32Array(p.length);
    let loss = 0;
    for (let i = 0; i < p.length; i++) {
      const d = p[i]! - t[i]!;
      loss += (d * d) / p.length;
      g[i] = (2 * d) / p.length;
    }
    return { loss, gradient: g };
  },
  async evalLoss(p, ts) {
    let s = 0;
    for (const t of ts) s += (await this.lossAndGradient(p, t)).loss;
    return s / ts.length;
  },
};
const inOrder = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('soft prompt tuning loop', () => {
  const train = [new Float32Array([1, 2]), new Float32Array([1.2, 1.8])];
  const evalSet = [new Float32Array([1.1, 1.9])];

  it('lowers the eval loss and keeps the best epoch', async () => {
    const r = await tunePrompt(new Float32Array([0, 0]), train, evalSet, objective, { learningRate: 0.1, maxEpochs: 30, patience: 6, shuffle: inOrder });
    assert.ok(r.curve[0]!.evalLoss > 2.4, `initial eval loss ${r.curve[0]!.evalLoss}`);
    assert.ok(r.bestEvalLoss < 0.05 * r.curve[0]!.evalLoss, `best ${r.bestEvalLoss}`);
    assert.equal(r.bestEvalLoss, Math.min(...r.curve.map((c) => c.evalLoss)));
    assert.equal(r.curve[r.bestEpoch]!.evalLoss, r.bestEvalLoss);
  });

  it('stops after `patience` epochs without improvement', async () => {
    // Start at the optimum of the eval set: no epoch can improve on epoch 0.
    const r = await tunePrompt(new Float32Array([1.1, 1.9]), train, evalSet, objective, { learningRate: 0.5, maxEpochs: 50, patience: 3, shuffle: inOrder });
    assert.equal(r.bestEpoch, 0);
    assert.equal(r.stoppedEarly, true);
    assert.equal(r.curve.length, 4); // epoch 0 + 3 epochs without improvement
    assert.deepEqual([...r.prompt], [1.1, 1.9].map(Math.fround));
  });

  it('resuming from an epoch checkpoint gives exactly the uninterrupted result', async () => {
    const opts = { learningRate: 0.1, maxEpochs: 8, patience: 6, shuffle: (n: number, e: number) => (e % 2 ? inOrder(n) : inOrder(n).reverse()) };
    const full = await tunePrompt(new Float32Array([0, 0]), train, evalSet, objective, opts);
    let saved: PromptTuningCheckpoint | undefined;
    // The same run "crashes" right after its epoch-3 checkpoint was written.
    await assert.rejects(
      tunePrompt(new Float32Array([0, 0]), train, evalSet, objective, opts, {
        onEpoch: async (c) => {
          saved = structuredClone(c);
          if (c.epoch === 3) throw new Error('worker killed');
        },
      }),
      /worker killed/,
    );
    assert.equal(saved?.epoch, 3);
    const resumed = await tunePrompt(new Float32Array([0, 0]), train, evalSet, objective, opts, { resumeFrom: saved! });
    assert.deepEqual([...resumed.prompt], [...full.prompt]);
    assert.deepEqual(resumed.curve, full.curve);
  });
});
