import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchNegatives, mineBm25Negatives, negativesJsonl, positivesByQuery } from '../../../lib/sptar/hard-negatives.ts';
import { retrieverTrainingData } from '../../../lib/sptar/retriever-data.ts';

// A fixed "BM25": each query text has its ranked list.
const lists = new Map<string, string[]>([
  ['alpha', ['d1', 'd2', 'd3', 'd4', 'd5']],
  ['beta', ['d3', 'd2', 'd6']],
  ['gamma', ['d9']],
]);
const search = (q: string, k: number) => (lists.get(q) ?? []).slice(0, k).map((id, i) => ({ id, score: 10 - i }));
const pairs = [
  { queryId: 'labeled:qa', docId: 'd1' },
  { queryId: 'labeled:qa', docId: 'd2' },
  { queryId: 'weak:beta', docId: 'd3' },
  { queryId: 'weak:gamma', docId: 'd9' },
];
const texts = new Map([
  ['labeled:qa', 'alpha'],
  ['weak:beta', 'beta'],
  ['weak:gamma', 'gamma'],
]);

describe('hard negatives', () => {
  it('are drawn from the BM25 top depth, never a positive of their query, seeded and in rank order', () => {
    const mined = mineBm25Negatives(search, pairs, texts, { perPair: 2, depth: 4, seed: 1 });
    const qa = mined.get('labeled:qa')!;
    // qa's positives d1 and d2 are excluded; its depth-4 candidates are d3 and d4: both drawn.
    assert.deepEqual(qa, ['d3', 'd4']);
    assert.deepEqual(mined.get('weak:beta'), ['d2', 'd6']);
    // Only the positive in its list: nothing to draw.
    assert.deepEqual(mined.get('weak:gamma'), []);
    // One per pair from a list of three candidates: the same seed draws the same, and the draw is one of them.
    const one = mineBm25Negatives(search, pairs, texts, { perPair: 1, depth: 5, seed: 7 }).get('labeled:qa')!;
    assert.deepEqual(mineBm25Negatives(search, pairs, texts, { perPair: 1, depth: 5, seed: 7 }).get('labeled:qa'), one);
    assert.equal(one.length, 1);
    assert.ok(['d3', 'd4', 'd5'].includes(one[0]!));
    const draws = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => mineBm25Negatives(search, pairs, texts, { perPair: 1, depth: 5, seed }).get('labeled:qa')![0]));
    assert.ok(draws.size > 1, 'different seeds draw different negatives');
    assert.equal(mineBm25Negatives(search, pairs, texts, { perPair: 0, depth: 5, seed: 1 }).size, 0);
    assert.throws(() => mineBm25Negatives(search, pairs, texts, { perPair: 1, depth: 0, seed: 1 }), RangeError);
  });

  it('a batch adds each negative once and never a document that is a positive of any query in the batch', () => {
    const positives = positivesByQuery(pairs);
    const negatives = new Map([
      ['labeled:qa', ['d3', 'd4']],
      ['weak:beta', ['d2', 'd4', 'd6']],
    ]);
    // d3 is beta's positive in the batch and d2 is qa's positive (not its pair in the batch): both left out; d4 once.
    assert.deepEqual(batchNegatives([pairs[0]!, pairs[2]!], negatives, positives), ['d4', 'd6']);
    // Without beta in the batch, d3 is a fine negative for qa.
    assert.deepEqual(batchNegatives([pairs[0]!], negatives, positives), ['d3', 'd4']);
    assert.equal(negativesJsonl(negatives), '{"queryKey":"labeled:qa","negatives":["d3","d4"]}\n{"queryKey":"weak:beta","negatives":["d2","d4","d6"]}\n');
  });
});

describe('dev split from S_eval, with BM25 distractors in the dev pool', () => {
  const ids = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9'];
  const corpus = { ids, texts: ids.map((id) => `text of ${id}`), position: new Map(ids.map((id, i) => [id, i])) };
  const labeled = new Map([
    ['t1', new Map([['d1', 1]])],
    ['t2', new Map([['d2', 1]])],
    ['e1', new Map([['d5', 1]])],
    ['e2', new Map([['d6', 1]])],
  ]);
  const queryTexts = new Map([['t1', 'alpha'], ['t2', 'beta'], ['e1', 'alpha'], ['e2', 'gamma']]);
  const retriever = { devFraction: 0.5, devCorpusSize: 5, devQueries: 's-eval', devCandidates: 2, hardNegatives: 1, negativeDepth: 5, hybrid: true };
  const config = { seed: 3, retriever } as unknown as Parameters<typeof retrieverTrainingData>[0];

  it('dev = the S_eval queries, training = S_train; the pool holds the judged, the BM25 top 2 of each dev query, then a sample', () => {
    const data = retrieverTrainingData(config, { corpus, queryTexts, labeled, weak: [], names: { labeled: 'l', queries: 'q' }, sEvalQueries: new Set(['e1', 'e2']), search, seed: 4 });
    assert.deepEqual([...data.dev.queryIds], ['e1', 'e2']);
    assert.deepEqual(data.pairs.labeled.map((p) => p.queryId), ['labeled:t1', 'labeled:t2']);
    // Judged d5, d6; alpha's top 2 d1, d2; gamma's d9: 5 documents, the size, so no sample is added.
    assert.deepEqual(data.dev.corpus.ids, ['d1', 'd2', 'd5', 'd6', 'd9']);
    // The BM25 dev run (for the fusion weight) is kept to the pool: alpha's d3 and d4 are not in it.
    assert.deepEqual([...data.devBm25!.get('e1')!.keys()], ['d1', 'd2', 'd5']);
    assert.deepEqual([...data.devBm25!.get('e2')!.keys()], ['d9']);
    // Hard negatives of the training queries: t1 (alpha) never gets its positive d1.
    assert.equal(data.negatives!.mined.get('labeled:t1')!.length, 1);
    assert.notEqual(data.negatives!.mined.get('labeled:t1')![0], 'd1');
  });

  it('says what is missing: no S_eval queries given, no index for negatives, nothing left to train on', () => {
    assert.throws(() => retrieverTrainingData(config, { corpus, queryTexts, labeled, weak: [], names: { labeled: 'l', queries: 'q' }, search }), { name: 'ConfigError', message: /s-eval' needs S_eval's queries/ });
    assert.throws(() => retrieverTrainingData(config, { corpus, queryTexts, labeled, weak: [], names: { labeled: 'l', queries: 'q' }, sEvalQueries: new Set(['e1']) }), {
      name: 'ConfigError',
      message: /devCandidates needs the BM25 index/,
    });
    assert.throws(() => retrieverTrainingData(config, { corpus, queryTexts, labeled, weak: [], names: { labeled: 'l', queries: 'q' }, sEvalQueries: new Set(labeled.keys()), search }), {
      name: 'ConfigError',
      message: /leaves no labeled query to train on/,
    });
  });
});
