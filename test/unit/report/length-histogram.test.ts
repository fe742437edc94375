import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LengthCounter, wordCount } from '../../../lib/report/length-histogram.ts';

describe('query length histogram', () => {
  it('counts whitespace-separated words', () => {
    assert.equal(wordCount('  what is\tthe  effect\n'), 4);
    assert.equal(wordCount('   '), 0);
  });

  it('bins lengths with an open last bin and summarises them', () => {
    const c = new LengthCounter();
    for (const n of [1, 2, 2, 3, 7, 30]) c.add(n);
    assert.deepEqual(c.bins(2, 3), [
      { from: 1, to: 2, count: 3 },
      { from: 3, to: 4, count: 1 },
      { from: 5, to: null, count: 2 },
    ]);
    assert.deepEqual(c.bins(5, 10, 12), [
      { from: 1, to: 5, count: 4 },
      { from: 6, to: 10, count: 1 },
      { from: 11, to: 15, count: 1 },
    ]);
    assert.deepEqual(c.summary(), { count: 6, mean: 45 / 6, median: 2.5, min: 1, max: 30 });
  });

  it('is empty without lengths', () => {
    const c = new LengthCounter();
    assert.deepEqual(c.bins(2, 4), []);
    assert.equal(c.summary(), null);
    assert.throws(() => c.bins(0, 4), /positive integer bin width/);
  });
});
