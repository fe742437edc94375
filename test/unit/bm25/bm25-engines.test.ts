import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze, deserializeBm25Index, indexDocuments, splitWords, type Bm25Backend, type Bm25Document } from '../../../lib/bm25/index.ts';

const docs: Bm25Document[] = [
  { _id: 'a', title: 'Cells', text: 'cells divide; cells grow' },
  { _id: 'b', text: 'tumour cells' },
  { _id: 'c', text: 'protein folding in yeast and the cell cycle' },
  { _id: 'd', text: 'unrelated words entirely here' },
];

// Terms after analysis: a: cell cell divid cell grow (5); b: tumour cell (2); c: protein fold yeast cell cycl (5,
// stopwords "in", "and", "the" dropped); d: unrel word entir here (4). avgdl = 16/4 = 4, N = 4.
// Query "cell": df 3 -> idf = ln(1 + (4 - 3 + .5)/(3 + .5)) = ln(1 + 1.5/3.5).
// w(tf, dl) = tf (k1+1) / (tf + k1 (1 - b + b dl/avgdl)) with k1 .9, b .4.
const idfCell = Math.log(1 + 1.5 / 3.5);
const w = (tf: number, dl: number) => (tf * 1.9) / (tf + 0.9 * (0.6 + (0.4 * dl) / 4));

const backends: Bm25Backend[] = ['compact', 'lunr'];

describe('text analysis', () => {
  it('splits on non-alphanumerics, lowercases, drops Lucene stopwords and Porter-stems with lunr', () => {
    assert.deepEqual(splitWords("--The cell's X-ray (2019)!"), ['the', 'cell', 's', 'x', 'ray', '2019']);
    assert.deepEqual(analyze('The mutations are increasing in Müller cells, and it was reported'), ['mutat', 'increas', 'müller', 'cell', 'report']);
    assert.deepEqual(analyze(''), []);
  });
});

for (const backend of backends) {
  describe(`BM25 (${backend})`, () => {
    it('scores with Lucene BM25 (k1 0.9, b 0.4) on a hand-computed fixture', async () => {
      const index = await indexDocuments(docs, { backend });
      const hits = index.search('cells', 10);
      assert.deepEqual(hits.map((h) => h.id), ['a', 'b', 'c']);
      // lunr divides by the query vector's norm and rounds weights to 3 decimals: its ratios match, not its values.
      const expected = [idfCell * w(3, 5), idfCell * w(1, 2), idfCell * w(1, 5)];
      const scale = backend === 'lunr' ? hits[0]!.score / expected[0]! : 1;
      const tol = backend === 'lunr' ? 2e-3 : 1e-6;
      hits.forEach((h, i) => assert.ok(Math.abs(h.score / scale - expected[i]!) < tol, `${h.id}: ${h.score / scale} vs ${expected[i]}`));
      assert.deepEqual(index.search('cells', 2).map((h) => h.id), ['a', 'b']);
      assert.deepEqual(index.search('the and of', 5), []);
      assert.deepEqual(index.search('nothing matches zzz', 5), []);
    });

    it('orders equal scores by document id descending, as trec_eval does', async () => {
      const twins = [{ _id: 'x1', text: 'same text' }, { _id: 'x3', text: 'same text' }, { _id: 'x2', text: 'same text' }];
      const index = await indexDocuments(twins, { backend });
      assert.deepEqual(index.search('text', 3).map((h) => h.id), ['x3', 'x2', 'x1']);
      assert.deepEqual(index.search('text', 2).map((h) => h.id), ['x3', 'x2']);
    });

    it('round-trips through bytes with identical results, and rejects damaged bytes', async () => {
      const index = await indexDocuments(docs, { backend, k1: 1.2, b: 0.75 });
      const bytes = index.serialize();
      // Copy into an unaligned buffer: loading must not depend on the caller's alignment.
      const shifted = new Uint8Array(bytes.length + 1).subarray(1);
      shifted.set(bytes);
      const loaded = deserializeBm25Index(shifted);
      assert.equal(loaded.backend, backend);
      assert.deepEqual(loaded.params, { k1: 1.2, b: 0.75 });
      assert.equal(loaded.documentCount, 4);
      for (const q of ['cells', 'yeast cycle', 'tumour cell growth']) assert.deepEqual(loaded.search(q, 10), index.search(q, 10));
      assert.throws(() => deserializeBm25Index(bytes.subarray(0, 30)), { name: 'CorruptArtifactError' });
      const garbled = bytes.slice();
      garbled[0] = 0;
      assert.throws(() => deserializeBm25Index(garbled), { name: 'CorruptArtifactError', message: /bad magic/ });
    });

    it('rejects duplicate document ids', async () => {
      await assert.rejects(indexDocuments([docs[0]!, docs[0]!], { backend }), { name: 'DataFormatError', message: /"a" appears twice/ });
    });
  });
}

describe('compact index integrity', () => {
  it('detects a posting that points past the last document', async () => {
    const bytes = (await indexDocuments(docs)).serialize();
    // Sections end with postingDocs (14 x u32) then postingTf (14 x u16, padded to 32 bytes): bytes 60..40 before
    // the end lie inside postingDocs, and 0xff there makes document numbers far beyond the 4 documents.
    const damaged = bytes.slice();
    damaged.fill(0xff, damaged.length - 60, damaged.length - 40);
    assert.throws(() => deserializeBm25Index(damaged), { name: 'CorruptArtifactError' });
  });
});
