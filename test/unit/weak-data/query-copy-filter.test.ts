import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EmbeddingMatrix } from '../../../lib/retrieval/dense-search.ts';
import {
  copyRateSummary,
  filterByDenseRoundTrip,
  filterCopiedQueries,
  queryCopyStats,
  sourceDocumentRanks,
} from '../../../lib/weak-data/query-copy-filter.ts';

// Words: insulin resistance is common in obese adults a new study finds (11 tokens).
const DOC = 'Insulin resistance is common in obese adults, a new study finds.';
const DOC2 = 'Malaria vaccine trial in children';

describe('queryCopyStats', () => {
  it('flags a query that is a span of the document, whatever its case and punctuation', () => {
    const expected = { tokens: 4, inDocument: 4, overlap: 1, longestSpan: 4, spanShare: 1, isSpanCopy: true };
    assert.deepEqual(queryCopyStats('common in obese adults', DOC), expected);
    assert.deepEqual(queryCopyStats('COMMON-in Obese, adults?!', DOC), expected);
  });

  it('counts overlap and the longest shared span separately', () => {
    // severe, cases absent; "insulin resistance" is contiguous in the document.
    assert.deepEqual(queryCopyStats('severe insulin resistance cases', DOC), {
      tokens: 4, inDocument: 2, overlap: 0.5, longestSpan: 2, spanShare: 0.5, isSpanCopy: false,
    });
    // Three of four words present; "resistance in" is not contiguous in the document ("resistance is"), so 2.
    assert.deepEqual(queryCopyStats('insulin resistance in children', DOC), {
      tokens: 4, inDocument: 3, overlap: 0.75, longestSpan: 2, spanShare: 0.5, isSpanCopy: false,
    });
    // Every word present but reordered: full overlap, only "common in" is a shared span.
    assert.deepEqual(queryCopyStats('adults obese common in', DOC), {
      tokens: 4, inDocument: 4, overlap: 1, longestSpan: 2, spanShare: 0.5, isSpanCopy: false,
    });
    // Repeated query words each count towards overlap, but the document holds "obese" once.
    assert.deepEqual(queryCopyStats('obese obese obese', DOC), {
      tokens: 3, inDocument: 3, overlap: 1, longestSpan: 1, spanShare: 1 / 3, isSpanCopy: false,
    });
  });

  it('finds the span at a later occurrence of its first words', () => {
    // "cat sat" first occurs before "the", only the second occurrence continues with "down".
    assert.deepEqual(queryCopyStats('cat sat down', 'the cat sat the cat sat down'), {
      tokens: 3, inDocument: 3, overlap: 1, longestSpan: 3, spanShare: 1, isSpanCopy: true,
    });
    // "sat the cat sat" (document words 3-6) is followed by "down", not "the".
    assert.equal(queryCopyStats('sat the cat sat the', 'the cat sat the cat sat down').longestSpan, 4);
  });

  it('keeps stopwords and does not stem', () => {
    // analyze() would reduce this to the single term "common"; the copy measure keeps all three words.
    assert.deepEqual(queryCopyStats('is common in', DOC), {
      tokens: 3, inDocument: 3, overlap: 1, longestSpan: 3, spanShare: 1, isSpanCopy: true,
    });
    // "resistances" would stem to "resist" like "resistance"; unstemmed it is a different word.
    assert.deepEqual(queryCopyStats('insulin resistances', DOC), {
      tokens: 2, inDocument: 1, overlap: 0.5, longestSpan: 1, spanShare: 0.5, isSpanCopy: false,
    });
  });

  it('needs at least three tokens for a span copy, and scores empty queries and documents 0', () => {
    assert.deepEqual(queryCopyStats('obese adults', DOC), {
      tokens: 2, inDocument: 2, overlap: 1, longestSpan: 2, spanShare: 1, isSpanCopy: false,
    });
    const empty = { tokens: 0, inDocument: 0, overlap: 0, longestSpan: 0, spanShare: 0, isSpanCopy: false };
    assert.deepEqual(queryCopyStats('', DOC), empty);
    assert.deepEqual(queryCopyStats(' ?! -- ', DOC), empty);
    assert.deepEqual(queryCopyStats('insulin resistance is', ''), {
      tokens: 3, inDocument: 0, overlap: 0, longestSpan: 0, spanShare: 0, isSpanCopy: false,
    });
  });
});

describe('copyRateSummary', () => {
  it('averages the measures over pairs from any iterable', () => {
    function* pairs() {
      yield { query: 'common in obese adults', document: DOC }; // overlap 1, span share 1, span copy
      yield { query: 'severe insulin resistance cases', document: DOC }; // 0.5, 0.5
      yield { query: 'adults obese common in', document: DOC }; // 1, 0.5
      yield { query: '', document: DOC }; // 0, 0
    }
    assert.deepEqual(copyRateSummary(pairs()), { pairs: 4, meanOverlap: 0.625, meanSpanShare: 0.5, spanCopyRate: 0.25 });
  });

  it('is all zeros for no pairs', () => {
    assert.deepEqual(copyRateSummary([]), { pairs: 0, meanOverlap: 0, meanSpanShare: 0, spanCopyRate: 0 });
  });
});

describe('filterCopiedQueries', () => {
  const texts: Record<string, string> = { d1: DOC, d2: DOC2 };
  const documentText = (docId: string): string => {
    const text = texts[docId];
    if (text === undefined) throw new Error(`no document ${docId}`);
    return text;
  };

  it('keeps a pair iff overlap and span share are both at most their thresholds', () => {
    const pairs = [
      { queryId: 'w1', docId: 'd1', query: 'common in obese adults' }, // 1, 1: dropped
      { queryId: 'w2', docId: 'd1', query: 'severe insulin resistance cases' }, // 0.5, 0.5: kept
      { queryId: 'w3', docId: 'd1', query: 'adults obese common in' }, // 1, 0.5: dropped on overlap
      { queryId: 'w4', docId: 'd2', query: 'malaria vaccine trial results' }, // 0.75, 0.75: dropped on span share
      { queryId: 'w5', docId: 'd1', query: 'insulin resistance in children' }, // 0.75, 0.5: kept (both at the limit)
      { queryId: 'w6', docId: 'd2', query: 'insulin resistance in children' }, // against d2: 0.5, 0.5: kept
    ];
    const result = filterCopiedQueries(pairs, documentText, { maxOverlap: 0.75, maxSpanShare: 0.5 });
    assert.deepEqual(result.kept.map((p) => p.queryId), ['w2', 'w5', 'w6']);
    assert.equal(result.kept[0], pairs[1]);
    assert.equal(result.dropped, 3);
    assert.equal(result.retention, 0.5);

    const loose = filterCopiedQueries(pairs, documentText, { maxOverlap: 1, maxSpanShare: 0.75 });
    assert.deepEqual(loose.kept.map((p) => p.queryId), ['w2', 'w3', 'w4', 'w5', 'w6']);
    assert.equal(loose.dropped, 1);
    assert.equal(loose.retention, 5 / 6);
  });

  it('reports retention 0 for no pairs and rejects thresholds outside [0, 1]', () => {
    assert.deepEqual(filterCopiedQueries([], documentText, { maxOverlap: 0, maxSpanShare: 1 }), { kept: [], dropped: 0, retention: 0 });
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      assert.throws(() => filterCopiedQueries([], documentText, { maxOverlap: bad, maxSpanShare: 1 }), {
        name: 'RangeError',
        message: `copy filter maxOverlap must be a number in [0, 1], got ${bad}`,
      });
      assert.throws(() => filterCopiedQueries([], documentText, { maxOverlap: 1, maxSpanShare: bad }), {
        name: 'RangeError',
        message: `copy filter maxSpanShare must be a number in [0, 1], got ${bad}`,
      });
    }
    const missing = { maxOverlap: 0.5 } as unknown as { maxOverlap: number; maxSpanShare: number };
    assert.throws(() => filterCopiedQueries([], documentText, missing), /maxSpanShare must be a number in \[0, 1\], got undefined/);
  });
});

describe('filterByDenseRoundTrip', () => {
  const pairs = [{ docId: 'd1' }, { docId: 'd2' }, { docId: 'd3' }, { docId: 'd4' }];

  it('keeps a pair iff its source document ranks within the top k', () => {
    const ranks = [1, 5, null, 3];
    const top3 = filterByDenseRoundTrip(pairs, ranks, 3);
    assert.deepEqual(top3.kept, [pairs[0], pairs[3]]);
    assert.equal(top3.dropped, 2);
    assert.equal(top3.retention, 0.5);
    assert.deepEqual(filterByDenseRoundTrip(pairs, ranks, 5).kept.map((p) => p.docId), ['d1', 'd2', 'd4']);
    assert.deepEqual(filterByDenseRoundTrip(pairs, ranks, 1), { kept: [pairs[0]], dropped: 3, retention: 0.25 });
    assert.deepEqual(filterByDenseRoundTrip([], [], 1), { kept: [], dropped: 0, retention: 0 });
  });

  it('rejects mismatched lengths, a bad k and a bad rank', () => {
    assert.throws(() => filterByDenseRoundTrip(pairs, [1, 2, 3], 3), { name: 'RangeError', message: 'dense round-trip filter got 3 ranks for 4 pairs' });
    assert.throws(() => filterByDenseRoundTrip(pairs, [1, 2, 3, 4], 0), /topK must be a positive integer, got 0/);
    assert.throws(() => filterByDenseRoundTrip(pairs, [1, 2, 3, 4], 1.5), /topK must be a positive integer, got 1.5/);
    assert.throws(() => filterByDenseRoundTrip(pairs, [1, 0, 3, 4], 3), /rank of pair 1 must be a positive integer or null, got 0/);
  });
});

describe('sourceDocumentRanks', () => {
  // d1 = (1, 0), d2 = (0, 1), d3 = (0.6, 0.8).
  const corpus: EmbeddingMatrix = { ids: ['d1', 'd2', 'd3'], dim: 2, data: new Float32Array([1, 0, 0, 1, 0.6, 0.8]) };
  const queries = new Float32Array([
    1, 0, // scores d1 1, d2 0, d3 0.6: order d1 d3 d2
    0, 1, // d1 0, d2 1, d3 0.8: order d2 d3 d1
    1, 0, // as the first query
    0.8, 0.6, // d1 0.8, d2 0.6, d3 0.96: order d3 d1 d2
  ]);
  const sources = ['d3', 'd2', 'd2', 'd1'];

  it('gives the 1-based rank of each query’s source document, null beyond the depth', () => {
    assert.deepEqual(sourceDocumentRanks(queries, sources, corpus, 3), [2, 1, 3, 2]);
    assert.deepEqual(sourceDocumentRanks(queries, sources, corpus, 2), [2, 1, null, 2]);
    assert.deepEqual(sourceDocumentRanks(queries, sources, corpus, 1), [null, 1, null, null]);
    assert.deepEqual(sourceDocumentRanks(queries, sources, corpus, 10), [2, 1, 3, 2]);
    assert.deepEqual(sourceDocumentRanks(new Float32Array(0), [], corpus, 1), []);
  });

  it('feeds the round-trip filter', () => {
    const pairs = sources.map((docId, i) => ({ queryId: `q${i}`, docId }));
    const result = filterByDenseRoundTrip(pairs, sourceDocumentRanks(queries, sources, corpus, 2), 2);
    assert.deepEqual(result.kept.map((p) => p.queryId), ['q0', 'q1', 'q3']);
    assert.equal(result.retention, 0.75);
  });

  it('rejects a bad depth, mis-sized embeddings and a source document missing from the corpus', () => {
    assert.throws(() => sourceDocumentRanks(queries, sources, corpus, 0), { name: 'RangeError', message: 'source document rank depth must be a positive integer, got 0' });
    assert.throws(() => sourceDocumentRanks(queries, sources.slice(1), corpus, 2), /query embeddings hold 8 floats, expected 3 x 2/);
    assert.throws(() => sourceDocumentRanks(queries, ['d3', 'd2', 'd9', 'd1'], corpus, 2), /source document d9 of query 2 is not in the embedded corpus/);
  });
});
