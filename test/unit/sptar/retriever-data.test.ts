import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleTrainingPairs, parseWeakPairs, retrieverTrainingData, type TrainingPairSources, type WeakPairGroup } from '../../../lib/sptar/retriever-data.ts';

const ids = ['d1', 'd2', 'd3', 'd4'];
const corpus = { ids, texts: ids.map((id) => `text of ${id}`), position: new Map(ids.map((id, i) => [id, i])) };
const weakGroup = (source: string, rows: [line: number, query: string, docId: string][]): WeakPairGroup => ({ source, rows: rows.map(([line, query, docId]) => ({ line, query, docId, rank: 1 })) });

// Newest first: the incremental run's pairs, then an earlier run's.
const newer = weakGroup('runs/2/kept.jsonl', [
  [1, 'lava flow', 'd1'],
  [2, 'lava flow', 'd1'], // the same pair again: kept once
  [4, 'lava flow', 'd2'], // the same query for another document: its own pair
]);
const older = weakGroup('runs/1/kept.jsonl', [
  [1, 'old about d1', 'd1'], // d1 was augmented again by the newer run: ignored
  [2, 'old about d3', 'd3'],
  [3, 'lava flow', 'd3'],
  [5, 'old about d3', 'd3'], // duplicate
]);

const sources = (over: Partial<TrainingPairSources> = {}): TrainingPairSources => ({
  // Query and document order in the maps is not the order of the pairs: both are sorted by id.
  labeled: new Map([
    ['q2', new Map([['d3', 1]])],
    ['q1', new Map([['d2', 1], ['d1', 2]])],
    ['q3', new Map([['d4', 1]])],
  ]),
  // q3 is held out, and has no text: a held-out query is never looked up.
  heldOut: new Set(['q3']),
  queryTexts: new Map([['q1', 'alpha query'], ['q2', 'beta query']]),
  corpus,
  weak: [newer, older],
  names: { labeled: 's-train.tsv/s-eval.tsv', queries: 'queries.jsonl' },
  ...over,
});

const pair = (queryId: string, docId: string) => ({ queryId, docId });

describe('training pair assembly', () => {
  it('keys labeled pairs by query id and weak pairs by text; newer groups win a document; a pair is kept once', () => {
    const pairs = assembleTrainingPairs(sources());
    assert.deepEqual(pairs.labeled, [pair('labeled:q1', 'd1'), pair('labeled:q1', 'd2'), pair('labeled:q2', 'd3')]);
    assert.deepEqual(pairs.weak, [pair('weak:lava flow', 'd1'), pair('weak:lava flow', 'd2'), pair('weak:old about d3', 'd3'), pair('weak:lava flow', 'd3')]);
    assert.deepEqual(
      [...pairs.texts].sort(),
      [
        ['labeled:q1', 'alpha query'],
        ['labeled:q2', 'beta query'],
        ['weak:lava flow', 'lava flow'],
        ['weak:old about d3', 'old about d3'],
      ],
    );
  });

  it('without weak pairs (W/O) only the labeled pairs remain; the order of the groups decides which run wins', () => {
    assert.deepEqual(assembleTrainingPairs(sources({ weak: [] })).weak, []);
    // The earlier run first: its d1 query wins, and the later run's d1 pairs are ignored.
    assert.deepEqual(assembleTrainingPairs(sources({ weak: [older, newer] })).weak, [pair('weak:old about d1', 'd1'), pair('weak:old about d3', 'd3'), pair('weak:lava flow', 'd3'), pair('weak:lava flow', 'd2')]);
  });

  it('names the source of a document missing from the corpus, even in rows a newer group overrides', () => {
    const stray = weakGroup('runs/1/kept.jsonl', [[1, 'old about d1', 'd1'], [7, 'elsewhere', 'd9']]);
    assert.throws(() => assembleTrainingPairs(sources({ weak: [newer, stray] })), {
      name: 'DataFormatError',
      message: 'runs/1/kept.jsonl:7: document "d9" is not in the prepared corpus; the weak pairs belong to another dataset',
    });
    assert.throws(() => assembleTrainingPairs(sources({ labeled: new Map([['q1', new Map([['d9', 1]])]]) })), {
      name: 'DataFormatError',
      message: 's-train.tsv/s-eval.tsv: labeled document "d9" is not in the prepared corpus',
    });
    assert.throws(() => assembleTrainingPairs(sources({ heldOut: new Set() })), {
      name: 'DataFormatError',
      message: 'queries.jsonl: labeled query "q3" has no text; the prepared queries and qrels disagree',
    });
  });

  it('reads weak pair rows with their line numbers, and names a bad row by source and line', () => {
    const bytes = new TextEncoder().encode(['{"queryId":"weak-d1","docId":"d1","query":"lava flow","rank":3}', '', '{"queryId":"weak-d2","docId":"d2","query":"ice","rank":1}', ''].join('\n'));
    assert.deepEqual(parseWeakPairs(bytes, 'kept.jsonl'), {
      source: 'kept.jsonl',
      rows: [
        { query: 'lava flow', docId: 'd1', rank: 3, line: 1 },
        { query: 'ice', docId: 'd2', rank: 1, line: 3 },
      ],
    });
    assert.throws(() => parseWeakPairs(new TextEncoder().encode('{"queryId":"weak-d1","docId":"d1","query":"x","rank":1}\nnot json\n'), 'kept.jsonl'), {
      name: 'DataFormatError',
      message: /^kept\.jsonl:2: not JSON .*; weak pairs are JSONL rows \{"queryId", "docId", "query", "rank"\}$/,
    });
    // Bytes that are not UTF-8 are bad data too, not an exception that would be retried.
    assert.throws(() => parseWeakPairs(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d, 0x0a]), 'kept.jsonl'), { name: 'DataFormatError', message: 'kept.jsonl: not valid UTF-8' });
  });

  it('the pipeline data holds the dev queries out of the training pairs', () => {
    const labeled = new Map(['q1', 'q2', 'q3', 'q4', 'q5'].map((q, i) => [q, new Map([[ids[i % 4]!, 1]])]));
    const queryTexts = new Map([...labeled.keys()].map((q) => [q, `text ${q}`]));
    const config = { seed: 3, retriever: { devFraction: 0.4, devCorpusSize: null } } as Parameters<typeof retrieverTrainingData>[0];
    const data = retrieverTrainingData(config, { corpus, queryTexts, labeled, weak: [], names: { labeled: 'l', queries: 'q' } });
    assert.equal(data.dev.queryIds.size, 2);
    assert.deepEqual(data.dev.queries.map((q) => q.id), [...data.dev.queryIds].sort());
    assert.equal(data.dev.corpus, corpus);
    const trained = new Set(data.pairs.labeled.map((p) => p.queryId.slice('labeled:'.length)));
    assert.equal(trained.size, 3);
    for (const q of data.dev.queryIds) assert.ok(!trained.has(q), `dev query ${q} is not trained on`);
  });
});
