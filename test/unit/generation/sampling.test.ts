import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Mulberry32 } from '../../../lib/random/prng.ts';
import { StopChecker } from '../../../lib/generation/stopping-criteria.ts';
import { argmax, candidateProbabilities, createSampler, topKIndices } from '../../../lib/generation/token-sampler.ts';

const fixed = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

describe('token choice', () => {
  it('greedy takes the largest logit and breaks ties towards the lowest id', () => {
    assert.equal(argmax(Float32Array.of(0.1, 3, -1, 2.9)), 1);
    assert.equal(argmax(Float32Array.of(1, 5, 5, 2)), 1);
    assert.equal(argmax(Float32Array.of(-Infinity, -5)), 1);
  });

  it('softmax with temperature gives the exact probabilities', () => {
    const logits = Float32Array.of(Math.log(1), Math.log(3), Math.log(6));
    const p = candidateProbabilities(logits, [0, 1, 2], 1);
    [0.1, 0.3, 0.6].forEach((e, i) => assert.ok(Math.abs((p[i] ?? 0) - e) < 1e-7));
    // temperature 0.5 squares the odds: 1 : 9 : 36
    const sharp = candidateProbabilities(logits, [0, 1, 2], 0.5);
    [1 / 46, 9 / 46, 36 / 46].forEach((e, i) => assert.ok(Math.abs((sharp[i] ?? 0) - e) < 1e-7));
  });

  it('samples by inverse CDF over the kept candidates', () => {
    const logits = Float32Array.of(Math.log(1), Math.log(3), Math.log(6)); // p = 0.1, 0.3, 0.6
    const all = createSampler({ temperature: 1, random: fixed(0.05, 0.15, 0.39, 0.41, 0.99) });
    assert.deepEqual([all(logits), all(logits), all(logits), all(logits), all(logits)], [0, 1, 1, 2, 2]);
    // top-2 keeps ids 2 and 1 (largest first): p = 2/3, 1/3
    assert.deepEqual(topKIndices(logits, 2), [2, 1]);
    const top2 = createSampler({ temperature: 1, topK: 2, random: fixed(0.6, 0.7) });
    assert.deepEqual([top2(logits), top2(logits)], [2, 1]);
    const top1 = createSampler({ temperature: 5, topK: 1, random: new Mulberry32(9).next });
    for (let i = 0; i < 20; i++) assert.equal(top1(logits), 2);
  });

  it('rejects invalid sampling settings', () => {
    assert.throws(() => createSampler({ temperature: 0, random: fixed(0) }), /temperature must be > 0/);
    assert.throws(() => createSampler({ temperature: 1, topK: -1, random: fixed(0) }), /topK must be a non-negative integer/);
  });
});

describe('seeded random', () => {
  it('is reproducible per seed and roughly uniform', () => {
    const a = new Mulberry32(42).next;
    const b = new Mulberry32(42).next;
    const c = new Mulberry32(43).next;
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(Array.from({ length: 5 }, () => b()), xs);
    assert.notDeepEqual(Array.from({ length: 5 }, () => c()), xs);
    const r = new Mulberry32(7).next;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const u = r();
      assert.ok(u >= 0 && u < 1);
      buckets[Math.floor(u * 10)]! += 1;
    }
    for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 500, `bucket count ${count}`);
  });
});

describe('stopping criteria', () => {
  it('stops on EOS and stop tokens without keeping them, and on the token budget keeping the last token', () => {
    const checker = new StopChecker({ eosTokenIds: [2], stopTokenIds: [198, 216], maxNewTokens: 3 });
    assert.deepEqual(checker.check(5, 1), { keepToken: true, finish: undefined });
    assert.deepEqual(checker.check(2, 1), { keepToken: false, finish: 'eos' });
    assert.deepEqual(checker.check(216, 2), { keepToken: false, finish: 'stop-token' });
    assert.deepEqual(checker.check(7, 3), { keepToken: true, finish: 'max-new-tokens' });
    assert.throws(() => new StopChecker({ eosTokenIds: [], stopTokenIds: [], maxNewTokens: 0 }), /maxNewTokens must be a positive integer/);
  });
});
