import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadQrels, readCorpus } from '../../../lib/beir/index.ts';
import { makeSptarSplits } from '../../../lib/splits/sptar-splits.ts';
import { scifact } from '../beir/scifact-path.ts';

const q = (o: Record<string, Record<string, number>>) => new Map(Object.entries(o).map(([k, v]) => [k, new Map(Object.entries(v))]));
// q4 has no relevant document; t1 is in both qrels (so never trained on); d5 and d12 are judged non-relevant.
const train = q({ q1: { d1: 1 }, q2: { d2: 1, d3: 1 }, q3: { d4: 1 }, q4: { d5: 0 }, q5: { d6: 2, d7: 1 }, q6: { d8: 1 }, t1: { d9: 1 } });
const test = q({ t1: { d10: 1 }, t2: { d11: 1, d12: 0 } });
const corpus = Array.from({ length: 20 }, (_, i) => `d${20 - i}`); // reverse order: file order must not matter

describe('SPTAR splits', () => {
  it('gives the exact same splits for the same seed (fixture ids)', () => {
    const s = makeSptarSplits(train, test, corpus, { seed: 13, trainPairs: 2, evalQueries: 2, unlabeledLimit: 4 });
    assert.deepEqual(s.sTrain, [{ queryId: 'q2', docId: 'd3' }, { queryId: 'q1', docId: 'd1' }]);
    assert.deepEqual(s.sEval, [{ queryId: 'q5', docId: 'd6' }, { queryId: 'q5', docId: 'd7' }, { queryId: 'q6', docId: 'd8' }]);
    assert.deepEqual(s.dUnlabeled, ['d14', 'd15', 'd18', 'd20']);
    assert.deepEqual(s.dTestQueries, ['t1', 't2']);
    assert.deepEqual(s.stats, { trainQueriesAvailable: 5, trainQueriesAlsoInTest: 1, unjudgedDocuments: 8 });
  });

  it('changes with the seed, and keeps every unjudged document without a cap', () => {
    const s = makeSptarSplits(train, test, corpus, { seed: 14, trainPairs: 2, evalQueries: 2 });
    assert.deepEqual(s.sTrain, [{ queryId: 'q2', docId: 'd3' }, { queryId: 'q6', docId: 'd8' }]);
    assert.deepEqual(s.sEval.map((p) => p.queryId), ['q5', 'q5', 'q3']);
    assert.deepEqual(s.dUnlabeled, ['d13', 'd14', 'd15', 'd16', 'd17', 'd18', 'd19', 'd20']);
  });

  it('explains what to change when the train qrels are too small', () => {
    assert.throws(() => makeSptarSplits(train, test, corpus, { seed: 1, trainPairs: 4, evalQueries: 2 }), {
      name: 'ConfigError',
      message: /need 4 \+ 2 distinct training queries .* have 5; lower splits\.trainPairs or splits\.evalQueries/,
    });
  });

  it('is disjoint on SciFact with the paper defaults (X 50, Y 100)', async () => {
    const trainQrels = (await loadQrels(scifact('qrels/train.tsv'))).value;
    const testQrels = (await loadQrels(scifact('qrels/test.tsv'))).value;
    const ids: string[] = [];
    for await (const row of readCorpus(scifact('corpus.jsonl'))) ids.push(row._id);
    const s = makeSptarSplits(trainQrels, testQrels, ids, { seed: 13 });
    const trainQ = new Set(s.sTrain.map((p) => p.queryId));
    const evalQ = new Set(s.sEval.map((p) => p.queryId));
    assert.equal(s.sTrain.length, 50);
    assert.equal(trainQ.size, 50);
    assert.equal(evalQ.size, 100);
    for (const qid of trainQ) assert.ok(!evalQ.has(qid) && !testQrels.has(qid), qid);
    for (const qid of evalQ) assert.ok(!testQrels.has(qid), qid);
    const judged = new Set([...trainQrels.values(), ...testQrels.values()].flatMap((m) => [...m.keys()]));
    assert.ok(s.dUnlabeled.every((d) => !judged.has(d)));
    assert.equal(s.dUnlabeled.length, 5183 - judged.size);
    for (const p of [...s.sTrain, ...s.sEval]) assert.ok((trainQrels.get(p.queryId)?.get(p.docId) ?? 0) > 0);
    assert.deepEqual(makeSptarSplits(trainQrels, testQrels, ids, { seed: 13 }), s);
  });
});
