// The re-filter of earlier runs' kept pairs (incremental runs) against a new index, on a tiny corpus.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import { createBm25Activities } from '../../../activities/bm25-activities.ts';
import { shardDocumentsKey } from '../../../common/artifact-keys.ts';
import { indexDocuments } from '../../../lib/bm25/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'sptar-bm25-act-'));
after(() => rm(dir, { recursive: true, force: true }));

const DOCS = [
  { _id: 'd1', title: 'Basalt', text: 'volcanic lava eruption forms basalt rock' },
  { _id: 'd2', title: 'Glaciers', text: 'glacier snow and ice melting in spring' },
  { _id: 'd3', title: 'Hawaii', text: 'lava flows reach the sea in hawaii' },
  { _id: 'd4', title: 'Deserts', text: 'sand dunes move with the wind' },
];
const row = (docId: string, query: string) => `${JSON.stringify({ queryId: `weak-${docId}`, docId, query, rank: 1 })}\n`;

describe('refilterWeakPairs', () => {
  const store = new LocalArtifactStore(join(dir, 'store'));
  const activities = createBm25Activities({ store });
  const run = <I, O>(fn: (input: I) => Promise<O>, input: I) => new MockActivityEnvironment().run(fn, input) as Promise<O>;

  it('keeps exactly the earlier pairs whose document is still in the top-k for its query under the new index', async () => {
    const index = await store.put('idx/compact.bm25', (await indexDocuments(DOCS, { k1: 0.9, b: 0.4 })).serialize());
    const first = await store.put('run1/kept.jsonl', row('d1', 'basalt eruption') + row('d2', 'lava'));
    const second = await store.put('run2/kept.jsonl', row('d3', 'lava sea hawaii') + row('d4', 'glacier ice'));
    const out = await run(activities.refilterWeakPairs, { scope: 'scope', index, topK: 1, pairs: [first, second] });
    assert.deepEqual([out.total, out.kept], [4, 2]);
    const kept = new TextDecoder()
      .decode(await store.get(out.keptPairs))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { docId: string; query: string; rank: number });
    assert.deepEqual(kept.map((k) => [k.docId, k.query, k.rank]), [
      ['d1', 'basalt eruption', 1],
      ['d3', 'lava sea hawaii', 1],
    ]);
    // Same inputs, same key: a retry rewrites the same artifact.
    const again = await run(activities.refilterWeakPairs, { scope: 'scope', index, topK: 1, pairs: [first, second] });
    assert.deepEqual(again.keptPairs, out.keptPairs);
  });

  it('drops the earlier pairs of documents this run augments again, even those the new index would keep', async () => {
    const index = await store.put('idx3/compact.bm25', (await indexDocuments(DOCS, { k1: 0.9, b: 0.4 })).serialize());
    const first = await store.put('run4/kept.jsonl', row('d1', 'basalt eruption') + row('d3', 'lava sea hawaii'));
    // This run's unlabeled shards (new and changed documents): d3 changed, d4 is new.
    const replaced = { prefix: 'run5/unlabeled', count: 1, documents: 2 };
    await store.put(shardDocumentsKey(replaced, 0), `${JSON.stringify(DOCS[2])}\n${JSON.stringify(DOCS[3])}\n`);
    const out = await run(activities.refilterWeakPairs, { scope: 'scope', index, topK: 1, pairs: [first], replaced });
    assert.deepEqual([out.total, out.superseded, out.kept], [2, 1, 1]);
    const kept = new TextDecoder().decode(await store.get(out.keptPairs)).trim().split('\n').map((l) => (JSON.parse(l) as { docId: string }).docId);
    assert.deepEqual(kept, ['d1']);
    // Without the replaced documents both pairs stay (the key differs, so neither result overwrites the other).
    const all = await run(activities.refilterWeakPairs, { scope: 'scope', index, topK: 1, pairs: [first] });
    assert.deepEqual([all.kept, all.superseded], [2, 0]);
    assert.notEqual(all.keptPairs.key, out.keptPairs.key);
  });

  it('names the artifact and line of a malformed row', async () => {
    const index = await store.put('idx2/compact.bm25', (await indexDocuments(DOCS)).serialize());
    const bad = await store.put('run3/kept.jsonl', `${row('d1', 'basalt')}{"queryId":"weak-d2","docId":"d2"}\n`);
    await assert.rejects(run(activities.refilterWeakPairs, { scope: 'scope', index, topK: 1, pairs: [bad] }), (err: Error) => {
      assert.equal(err.name, 'DataFormatError');
      assert.match(err.message, /^run3\/kept\.jsonl:2: query: /);
      return true;
    });
  });
});
