// The pruned search must return exactly what scoring every posting returns (ids, scores, tie order), whatever the
// window size, k, or query; and it must actually prune.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANSERINI_BM25, deserializeBm25Index, type Bm25Document } from '../../../lib/bm25/index.ts';
import { buildCompactBm25, type CompactBm25Index } from '../../../lib/bm25/compact-bm25.ts';
import { encodeStrings, packIndex } from '../../../lib/bm25/index-container.ts';
import type { SearchStats } from '../../../lib/bm25/maxscore-search.ts';
import { BLOCK_SIZE, buildPostingBlocks } from '../../../lib/bm25/posting-blocks.ts';
import { createPrng, type Prng } from '../../../lib/random/prng.ts';

/** Words w0..w{size-1} drawn with Zipf(1) frequencies, so lists range from nearly every document to a handful. */
function zipfSampler(size: number): (prng: Prng) => string {
  const cdf = new Float64Array(size);
  let total = 0;
  for (let r = 0; r < size; r++) cdf[r] = total += 1 / (r + 1);
  return (prng) => {
    const u = prng.next() * total;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return `w${lo}`;
  };
}

function seededCorpus(count: number, seed: number): { docs: Bm25Document[]; queries: string[] } {
  const prng = createPrng(seed, 'maxscore-test');
  const word = zipfSampler(800);
  const text = (words: number) => Array.from({ length: words }, () => word(prng)).join(' ');
  // Ids are not in document order, so tie-breaking by id is exercised across windows.
  const docs = Array.from({ length: count }, (_, i) => ({ _id: `doc${(i * 7919) % count}`, text: text(4 + prng.int(30)) }));
  // Queries repeat words, mix very common and rare words, and include unknown words.
  const queries = Array.from({ length: 120 }, (_, i) => `${text(1 + prng.int(14))}${i % 10 === 0 ? ' zzz unknown' : ''}`);
  return { docs, queries };
}

const emptyStats = (): SearchStats => ({ windows: 0, scannedPostings: 0, candidates: 0, probes: 0, scored: 0 });

describe('block-max MaxScore search', () => {
  const { docs, queries } = seededCorpus(6000, 11);

  for (const window of [32, 256, 4096]) {
    it(`equals exhaustive scoring for every query and k (window ${window})`, async () => {
      const index = await buildCompactBm25(docs, ANSERINI_BM25, { window });
      for (const k of [1, 3, 10, 100]) {
        for (const q of queries) assert.deepEqual(index.search(q, k), index.search(q, k, { exhaustive: true }), `window ${window}, k ${k}, query "${q}"`);
      }
    });
  }

  it('scores only a small part of the matching documents exactly', async () => {
    const index: CompactBm25Index = await buildCompactBm25(docs, ANSERINI_BM25, { window: 256 });
    const stats = emptyStats();
    let matching = 0;
    for (const q of queries) {
      index.search(q, 10, { stats });
      matching += index.search(q, docs.length, { exhaustive: true }).length;
    }
    assert.ok(stats.scored < 0.2 * matching, `scored ${stats.scored} of ${matching} matching documents`);
    assert.ok(stats.candidates < matching, `candidates ${stats.candidates} of ${matching}`);
  });

  it('breaks ties by id descending across windows', async () => {
    // 500 identical documents spread over many 32-document windows, between unrelated ones.
    const tied = Array.from({ length: 1500 }, (_, i) => ({ _id: `t${(i * 37) % 1500}`, text: i % 3 === 0 ? 'alpha beta' : 'gamma delta' }));
    const index = await buildCompactBm25(tied, ANSERINI_BM25, { window: 32 });
    const expected = tied
      .filter((d) => d.text === 'alpha beta')
      .map((d) => d._id)
      .sort()
      .reverse()
      .slice(0, 7);
    const hits = index.search('alpha', 7);
    assert.deepEqual(hits.map((h) => h.id), expected);
    assert.equal(new Set(hits.map((h) => h.score)).size, 1);
    assert.deepEqual(index.search('alpha gamma', 600), index.search('alpha gamma', 600, { exhaustive: true }));
  });

  it('rejects a window that is not a positive multiple of 32', async () => {
    await assert.rejects(buildCompactBm25(docs.slice(0, 3), ANSERINI_BM25, { window: 100 }), { name: 'RangeError', message: /multiple of 32, got 100/ });
  });
});

describe('posting blocks', () => {
  it('keep the last document and the largest impact of each block', () => {
    // Term 0: 300 postings (blocks of 128, 128, 44); term 1: none; term 2: 1 posting.
    const postingStart = Uint32Array.from([0, 300, 300, 301]);
    const docs = Uint32Array.from([...Array.from({ length: 300 }, (_, i) => 2 * i), 7]);
    const impacts = Float32Array.from([...Array.from({ length: 300 }, (_, i) => (i === 5 ? 3 : i === 200 ? 2 : i === 299 ? 1.5 : 1)), 0.25]);
    assert.equal(BLOCK_SIZE, 128);
    const blocks = buildPostingBlocks(postingStart, docs, impacts);
    assert.deepEqual([...blocks.blockStart], [0, 3, 3, 4]);
    assert.deepEqual([...blocks.blockLast], [254, 510, 598, 7]);
    assert.deepEqual([...blocks.blockMax], [3, 2, 1.5, 0.25]);
  });
});

describe('compact index integrity', () => {
  it('rejects postings out of document order, naming the term', () => {
    const bytes = packIndex(
      { backend: 'compact', k1: 0.9, b: 0.4, documents: 3, terms: 1, postings: 3 },
      {
        docIds: encodeStrings(['a', 'b', 'c']),
        terms: encodeStrings(['cell']),
        docLengths: Uint32Array.from([1, 1, 1]),
        postingStart: Uint32Array.from([0, 3]),
        postingDocs: Uint32Array.from([0, 2, 1]),
        postingTf: Uint16Array.from([1, 1, 1]),
      },
    );
    assert.throws(() => deserializeBm25Index(bytes), { name: 'CorruptArtifactError', message: /term "cell" are not in ascending document order at posting 2/ });
  });
});
