import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bestGroup, sampleExampleGroups } from '../../../lib/sptar/example-groups.ts';

// A fixed sequence stands in for the seeded generator so the expected groups can be worked out by hand.
const sequence = (xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length]!;
};

describe('example group sampling and selection', () => {
  it('draws the groups a partial Fisher-Yates gives for the random sequence', () => {
    // pool [0..4]; r=0.5 -> j=0+floor(0.5*5)=2 -> [2,1,0,3,4]; r=0.9 -> j=1+floor(0.9*4)=4 -> [2,4,...]
    // next: r=0.0 -> j=0 -> [0,...]; r=0.3 -> j=1+floor(1.2)=2 -> [0,2]
    assert.deepEqual(sampleExampleGroups(5, 2, 2, sequence([0.5, 0.9, 0.0, 0.3])), [
      [2, 4],
      [0, 2],
    ]);
  });

  it('never repeats a group and stops when no new group exists', () => {
    let s = 7;
    const lcg = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const groups = sampleExampleGroups(4, 20, 2, lcg);
    assert.equal(groups.length, 6); // C(4,2)
    assert.equal(new Set(groups.map((g) => [...g].sort().join())).size, 6);
    assert.throws(() => sampleExampleGroups(1, 3, 2, lcg), /groups of 2 examples from 1 labeled pairs/);
  });

  it('picks the lowest finite loss, earliest on ties', () => {
    assert.equal(bestGroup([2.5, 1.75, Number.NaN, 1.75, 3]), 1);
    assert.throws(() => bestGroup([Number.NaN]), /no example group has a finite loss/);
  });
});
