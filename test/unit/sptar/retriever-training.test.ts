import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchesWithoutDuplicates, trainingPhases, trainPhases, trainRetriever, type RetrieverCheckpoint, type RetrieverObjective, type TrainingPhase } from '../../../lib/sptar/retriever-training.ts';

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

  it('resumes from any step checkpoint inside an epoch to the uninterrupted result, and refuses one of other pairs', async () => {
    // Two weights pulled to each pair's own target, in another pair order every epoch: a resumed epoch must rebuild
    // the very batches of the uninterrupted run and skip the ones its checkpoint covers.
    const pairs = Array.from({ length: 10 }, (_, i) => pair(`q${i}`, `d${i}`));
    const target = (p: { docId: string }) => Number(p.docId.slice(1)) / 10;
    let steps = 0;
    const objective: RetrieverObjective = {
      async lossAndGradients(ws, batch) {
        steps++;
        const [a, b] = [ws[0]![0]!, ws[0]![1]!];
        const g = new Float32Array([batch.reduce((s, p) => s + 2 * (a - target(p)), 0), batch.reduce((s, p) => s + 2 * (b + target(p)), 0)]);
        return { loss: batch.reduce((s, p) => s + (a - target(p)) ** 2 + (b + target(p)) ** 2, 0), gradients: [g] };
      },
      async devScore(ws) {
        return -Math.abs(ws[0]![0]! - 0.45) - Math.abs(ws[0]![1]! + 0.45);
      },
    };
    const options = {
      epochs: 3, batchSize: 3, learningRate: 0.05, weightDecay: 0.01, warmupFraction: 0.2, maxGradNorm: 1, checkpointEverySteps: 1,
      // A permutation of its own per epoch (7 is coprime to 10 and to 6).
      shuffle: (n: number, e: number) => Array.from({ length: n }, (_, i) => (i * 7 + e) % n),
    };
    const taken: RetrieverCheckpoint[] = [];
    const whole = await trainRetriever([new Float32Array([0, 0])], pairs, objective, options, {
      onStepCheckpoint: async (c) => {
        taken.push(structuredClone(c));
      },
    });
    const total = steps;
    // 4 batches per epoch (10 pairs at 3), a step checkpoint after each but the last: 3 per epoch.
    assert.equal(total, 12);
    assert.deepEqual(taken.map((c) => [c.epoch, c.within!.steps, c.optimizer.step]), [0, 1, 2].flatMap((e) => [1, 2, 3].map((s) => [e, s, 4 * e + s])));
    assert.equal(taken[0]!.best, undefined, 'no epoch was scored before the first one ended');
    for (const c of taken) {
      steps = 0;
      const resumed = await trainRetriever([new Float32Array([9, 9])], pairs, objective, options, { resumeFrom: structuredClone(c) });
      assert.equal(steps, total - (4 * c.epoch + c.within!.steps), `from epoch ${c.epoch + 1} step ${c.within!.steps}`);
      assert.deepEqual(resumed.curve, whole.curve);
      assert.deepEqual(resumed.best, whole.best);
    }
    await assert.rejects(trainRetriever([new Float32Array([0, 0])], pairs.slice(0, 6), objective, options, { resumeFrom: taken[2]! }), {
      name: 'CorruptArtifactError',
      message: /a step checkpoint of epoch 1 covers 3 steps, but the epoch has 2/,
    });
  });

  describe('phases', () => {
    // One weight w. A weak pair pulls w towards -1, a labeled pair towards 2; the dev score peaks at w = 2.
    const target = (p: { docId: string }) => (p.docId.startsWith('weak') ? -1 : 2);
    const labeled = Array.from({ length: 4 }, (_, i) => pair(`l${i}`, `lab${i}`));
    const weak = Array.from({ length: 6 }, (_, i) => pair(`w${i}`, `weak${i}`));
    const options = { batchSize: 2, learningRate: 0.1, weightDecay: 0, warmupFraction: 0, maxGradNorm: 100, shuffle: (_: TrainingPhase, n: number) => Array.from({ length: n }, (_, i) => i) };
    /** Records the pairs each phase trains on and its dev calls; fails at the first batch of `failAt`'s epoch. */
    const objectiveFor = (seen: Map<string, string[]>, failAt?: { phase: string; epoch: number }, devCalls = new Map<string, number>()) => {
      const batches = new Map<string, number>();
      return (phase: TrainingPhase): RetrieverObjective => ({
        async lossAndGradients(ws, batch) {
          const n = (batches.get(phase.name) ?? 0) + 1;
          batches.set(phase.name, n);
          // Two batches of two pairs per labeled epoch.
          if (failAt && failAt.phase === phase.name && n === 2 * (failAt.epoch - 1) + 1) throw new Error('worker lost');
          const w = ws[0]![0]!;
          seen.set(phase.name, [...(seen.get(phase.name) ?? []), ...batch.map((p) => p.docId)]);
          return { loss: batch.reduce((s, p) => s + (w - target(p)) ** 2, 0), gradients: [new Float32Array([batch.reduce((s, p) => s + 2 * (w - target(p)), 0)])] };
        },
        async devScore(ws) {
          devCalls.set(phase.name, (devCalls.get(phase.name) ?? 0) + 1);
          return -Math.abs(ws[0]![0]! - 2);
        },
      });
    };

    it('a schedule is one mixed phase, or weak pairs alone then labeled pairs', () => {
      assert.deepEqual(trainingPhases(labeled, weak, 'mixed', 3, 1), [{ name: 'mixed', pairs: [...labeled, ...weak], epochs: 3 }]);
      assert.deepEqual(trainingPhases(labeled, weak, 'weak-first', 3, 2), [
        { name: 'weak', pairs: weak, epochs: 2 },
        { name: 'labeled', pairs: labeled, epochs: 3 },
      ]);
      // Without weak pairs (W/O) there is nothing to train first.
      assert.deepEqual(trainingPhases(labeled, [], 'weak-first', 3, 2), [{ name: 'mixed', pairs: labeled, epochs: 3 }]);
    });

    it('weak-first trains each phase on its own pairs, from the previous phase\'s encoder, numbering epochs on', async () => {
      const seen = new Map<string, string[]>();
      const devCalls = new Map<string, number>();
      const result = await trainPhases([new Float32Array([0])], trainingPhases(labeled, weak, 'weak-first', 3, 2), objectiveFor(seen, undefined, devCalls), options);
      // The labeled phase starts from the weak phase's selected encoder, whose dev score is known: not scored again.
      assert.deepEqual(Object.fromEntries(devCalls), { weak: 3, labeled: 3 });
      assert.ok(seen.get('weak')!.every((d) => d.startsWith('weak')) && seen.get('weak')!.length === 12);
      assert.ok(seen.get('labeled')!.every((d) => d.startsWith('lab')) && seen.get('labeled')!.length === 12);
      assert.equal(result.leadingEpochs, 2);
      assert.deepEqual(result.curve.map((c) => c.epoch), [0, 1, 2, 3, 4, 5]);
      // The weak phase pulls w below 0 (dev falls), the labeled phase towards 2 (dev rises): the best is labeled.
      assert.ok(result.curve[2]!.devScore < result.curve[0]!.devScore, `weak phase dev ${result.curve[2]!.devScore}`);
      assert.ok(result.curve[5]!.devScore > result.curve[2]!.devScore);
      assert.equal(result.best.epoch, 5);
      assert.equal(result.best.devScore, result.curve[5]!.devScore);
      assert.ok(Math.abs(result.best.devScore + Math.abs(result.best.weights[0]![0]! - 2)) < 1e-6);
    });

    it('resumes inside the second phase from stored checkpoints to the uninterrupted result, and refuses a gap', async () => {
      const phases = trainingPhases(labeled, weak, 'weak-first', 3, 2);
      const whole = await trainPhases([new Float32Array([0])], phases, objectiveFor(new Map()), options);

      const stored = new Map<string, RetrieverCheckpoint>();
      const hooks = {
        resumeFrom: async (p: TrainingPhase) => stored.get(p.name),
        onEpoch: async (p: TrainingPhase, c: RetrieverCheckpoint) => {
          stored.set(p.name, structuredClone(c));
        },
      };
      await assert.rejects(trainPhases([new Float32Array([0])], phases, objectiveFor(new Map(), { phase: 'labeled', epoch: 2 }), options, hooks), /worker lost/);
      assert.equal(stored.get('weak')!.epoch, 2);
      assert.equal(stored.get('labeled')!.epoch, 1);
      const seen = new Map<string, string[]>();
      const resumed = await trainPhases([new Float32Array([0])], phases, objectiveFor(seen), options, hooks);
      assert.equal(seen.get('weak'), undefined, 'the finished weak phase is not trained again');
      assert.equal(seen.get('labeled')!.length, 8, 'labeled epochs 2 and 3 only');
      assert.deepEqual(resumed.curve, whole.curve);
      assert.equal(resumed.best.epoch, whole.best.epoch);
      assert.deepEqual(resumed.best.weights, whole.best.weights);

      stored.delete('weak');
      await assert.rejects(trainPhases([new Float32Array([0])], phases, objectiveFor(new Map()), options, hooks), {
        name: 'CorruptArtifactError',
        message: /phase 'labeled' has a checkpoint but the earlier phase 'weak' has no finished one/,
      });
    });
  });
});
