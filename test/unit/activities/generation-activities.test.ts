// The shard activity on a local store with a stand-in generator: outcomes per document, and heartbeats on a clock
// while a slow batch runs (a batch at real scale runs for minutes between two per-batch heartbeats).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGenerationActivities, type GenerateShardInput, type QueryGenerator } from '../../../activities/generation-activities.ts';
import { generationShardKeys } from '../../../common/artifact-keys.ts';
import type { GenerationSettings } from '../../../common/generation-types.ts';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'sptar-gen-act-'));
after(() => rm(dir, { recursive: true, force: true }));

const DOCS = ['d1', 'd2', 'd3', 'd4'].map((id) => ({ _id: id, title: '', text: `text of ${id}` }));
const BATCH_MS = 400;

/** Batches of two that take BATCH_MS each on timers (the event loop stays free, as with worker-thread sessions). */
const slowGenerator: QueryGenerator = {
  batchSize: 2,
  generate: async (docs) => {
    await new Promise((resolve) => setTimeout(resolve, BATCH_MS));
    return docs.map((d) => ({ query: `query for ${d._id}` }));
  },
};

/** `store`, except that the first write of `key` fails as an unreachable store would. */
function failingOnce(store: LocalArtifactStore, key: string): LocalArtifactStore {
  let down = true;
  return Object.assign(Object.create(store) as LocalArtifactStore, {
    put: (k: string, data: Uint8Array | string) => {
      if (down && k === key) {
        down = false;
        return Promise.reject(new Error('store unreachable'));
      }
      return store.put(k, data);
    },
  });
}

describe('generateShard', () => {
  it('writes one outcome per document and heartbeats on its clock while a batch runs', async () => {
    const store = new LocalArtifactStore(join(dir, 'store'));
    await store.put('shards/0.jsonl', DOCS.map((d) => JSON.stringify(d)).join('\n'));
    const activities = createGenerationActivities({ store, generatorFor: async () => slowGenerator, heartbeats: { everyMs: 100 } });
    const env = new MockActivityEnvironment();
    const beats: { done: number; total: number }[] = [];
    env.on('heartbeat', (d: { done: number; total: number }) => beats.push(d));
    // The stand-in generator reads no settings.
    const input: GenerateShardInput = { index: 0, shardKey: 'shards/0.jsonl', outputPrefix: 'gen', shared: {} as GenerationSettings };
    const result = (await env.run(activities.generateShard, input)) as Awaited<ReturnType<typeof activities.generateShard>>;
    assert.deepEqual([result.documents, result.generated, result.failed], [4, 4, 0]);
    const queries = new TextDecoder().decode(await store.get(generationShardKeys('gen', 0).queries));
    assert.deepEqual(queries.trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text), DOCS.map((d) => `query for ${d._id}`));

    // Per batch alone there would be 3 (the start and one after each batch); the clock sends the latest record every
    // 50-100 ms meanwhile, so each 400 ms batch adds at least 3 more, every one of them a valid progress record.
    assert.ok(beats.length >= 3 + 2 * 3, `expected clock heartbeats during the batches, got ${beats.length}`);
    assert.deepEqual(beats[0], { done: 0, total: 4 });
    assert.deepEqual(beats.at(-1), { done: 4, total: 4 });
    for (const b of beats) assert.ok([0, 2, 4].includes(b.done) && b.total === 4, JSON.stringify(b));
    assert.ok(beats.some((b) => b.done === 0) && beats.filter((b) => b.done === 0).length >= 2, 'the start record is re-sent while the first batch runs');
  });

  it('a malformed line in a checkpoint part stops the shard naming the part, its line and the fix; the earlier parts stay', async () => {
    const store = new LocalArtifactStore(join(dir, 'store-corrupt'));
    const docs = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ _id: id, title: '', text: `text of ${id}` }));
    await store.put('shards/0.jsonl', docs.map((d) => JSON.stringify(d)).join('\n'));
    const keys = generationShardKeys('gen', 0);
    const generated: string[] = [];
    const generator: QueryGenerator = {
      batchSize: 2,
      generate: async (batch) => {
        generated.push(...batch.map((d) => d._id));
        return batch.map((d) => ({ query: `query for ${d._id}` }));
      },
    };
    // The first attempt loses the store as it writes its third part.
    const flaky = failingOnce(store, keys.part(4));
    const activities = createGenerationActivities({ store: flaky, generatorFor: async () => generator });
    const input: GenerateShardInput = { index: 0, shardKey: 'shards/0.jsonl', outputPrefix: 'gen', shared: {} as GenerationSettings };
    const run = () => new MockActivityEnvironment().run(activities.generateShard, input) as ReturnType<typeof activities.generateShard>;
    await assert.rejects(run(), /store unreachable/);
    generated.length = 4; // the third batch's outcomes were never stored
    assert.deepEqual(await store.list(keys.partPrefix), [keys.part(0), keys.part(2)]);

    // The second part's second line is cut off (a foreign write; the store's own checksum matches it).
    const good = new TextDecoder().decode(await store.get(keys.part(2))).trim().split('\n');
    await store.put(keys.part(2), `${good[0]}\n{"docId":"d"\n`);
    await assert.rejects(run(), (err: Error) => {
      assert.equal(err.name, 'CorruptArtifactError');
      assert.ok(err.message.startsWith(`${keys.part(2)}:2: not JSON (`), err.message);
      assert.ok(err.message.endsWith(`); delete ${keys.part(2)}, then retry the shard (sptar retry): it generates those documents again and keeps the 1 earlier part`), err.message);
      return true;
    });
    assert.deepEqual(generated, ['a', 'b', 'c', 'd'], 'nothing generated while a part is corrupt');
    assert.ok(await store.stat(keys.part(0)), 'the earlier part is kept');

    // Following the fix: only the corrupt part's documents and the rest are generated again.
    await store.delete(keys.part(2));
    const result = await run();
    assert.deepEqual([result.documents, result.generated, result.reused], [6, 6, false]);
    assert.deepEqual(generated, ['a', 'b', 'c', 'd', 'c', 'd', 'e', 'f']);
    const queries = new TextDecoder().decode(await store.get(keys.queries)).trim().split('\n').map((l) => (JSON.parse(l) as { _id: string })._id);
    assert.deepEqual(queries, docs.map((d) => d._id));
  });
});

describe('generateShard with length-sorted batches', () => {
  // Shard order a b (poison line) c d e f g; the stand-in's prompt length is the text's word count.
  const words = { a: 5, b: 2, c: 4, d: 2, e: 1, f: 6, g: 3 };
  const docs = Object.entries(words).map(([id, n]) => ({ _id: id, title: '', text: Array.from({ length: n }, (_, i) => `${id}${i}`).join(' ') }));
  const lines = docs.map((d) => JSON.stringify(d));
  lines.splice(2, 0, 'not json');
  const sorted = { lengthSortedBatches: true } as GenerationSettings;
  const recording = (calls: string[][]): QueryGenerator => ({
    batchSize: 3,
    generate: async (batch) => {
      calls.push(batch.map((d) => d._id));
      return batch.map((d) => ({ query: `query for ${d._id}` }));
    },
    promptTokens: (d) => d.text.split(' ').length,
  });
  const shardStore = async (name: string) => {
    const store = new LocalArtifactStore(join(dir, name));
    await store.put('shards/0.jsonl', lines.join('\n'));
    return store;
  };
  const rows = async (store: LocalArtifactStore, key: string) =>
    new TextDecoder().decode(await store.get(key)).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const keys = generationShardKeys('gen', 0);

  it('decodes the shard in prompt-length order, checkpoints in that order and writes its outputs in shard order', async () => {
    const store = await shardStore('store-sorted');
    const calls: string[][] = [];
    const activities = createGenerationActivities({ store, generatorFor: async () => recording(calls) });
    const input: GenerateShardInput = { index: 0, shardKey: 'shards/0.jsonl', outputPrefix: 'gen', shared: sorted };
    const result = (await new MockActivityEnvironment().run(activities.generateShard, input)) as Awaited<ReturnType<typeof activities.generateShard>>;
    assert.deepEqual([result.documents, result.generated, result.failed], [8, 7, 1]);
    // Lengths a5 b2 (poison) c4 d2 e1 f6 g3: poison first, then e1 b2 d2 g3 c4 a5 f6 (b before d: shard order), in threes.
    assert.deepEqual(calls, [['e', 'b'], ['d', 'g', 'c'], ['a', 'f']]);
    assert.deepEqual(await store.list(keys.partPrefix), [keys.part(0), keys.part(3), keys.part(6)]);
    assert.deepEqual((await rows(store, keys.part(0))).map((r) => r['docId']), ['shards/0.jsonl#line-3', 'e', 'b']);
    assert.deepEqual((await rows(store, keys.part(3))).map((r) => r['docId']), ['d', 'g', 'c']);
    assert.deepEqual((await rows(store, keys.part(6))).map((r) => r['docId']), ['a', 'f']);
    assert.deepEqual(await rows(store, keys.queries), ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => ({ _id: id, text: `query for ${id}` })));
    assert.deepEqual(await rows(store, keys.failures), [{ docId: 'shards/0.jsonl#line-3', reason: 'not JSON at shards/0.jsonl:3' }]);
  });

  it('without the switch (settings recorded before it) decodes consecutive documents, as before', async () => {
    const store = await shardStore('store-unsorted');
    const calls: string[][] = [];
    const activities = createGenerationActivities({ store, generatorFor: async () => recording(calls) });
    for (const shared of [{} as GenerationSettings, { lengthSortedBatches: false } as GenerationSettings]) {
      calls.length = 0;
      const output = `gen-${shared.lengthSortedBatches === false ? 'off' : 'absent'}`;
      await new MockActivityEnvironment().run(activities.generateShard, { index: 0, shardKey: 'shards/0.jsonl', outputPrefix: output, shared });
      assert.deepEqual(calls, [['a', 'b'], ['c', 'd', 'e'], ['f', 'g']]);
      assert.deepEqual((await rows(store, generationShardKeys(output, 0).part(0))).map((r) => r['docId']), ['a', 'b', 'shards/0.jsonl#line-3']);
      assert.deepEqual((await rows(store, generationShardKeys(output, 0).queries)).map((r) => r['_id']), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    }
  });

  it('a retry resumes from the stored parts of the sorted order and generates only the rest', async () => {
    const store = await shardStore('store-sorted-resume');
    const calls: string[][] = [];
    const flaky = failingOnce(store, keys.part(6));
    const activities = createGenerationActivities({ store: flaky, generatorFor: async () => recording(calls) });
    const input: GenerateShardInput = { index: 0, shardKey: 'shards/0.jsonl', outputPrefix: 'gen', shared: sorted };
    const run = () => new MockActivityEnvironment().run(activities.generateShard, input) as ReturnType<typeof activities.generateShard>;
    await assert.rejects(run(), /store unreachable/);
    assert.deepEqual(await store.list(keys.partPrefix), [keys.part(0), keys.part(3)]);
    assert.deepEqual(calls, [['e', 'b'], ['d', 'g', 'c'], ['a', 'f']]);

    calls.length = 0;
    const result = await run();
    assert.deepEqual(calls, [['a', 'f']], 'only the batch whose part was never stored is generated again');
    assert.deepEqual([result.documents, result.generated, result.failed, result.reused], [8, 7, 1, false]);
    assert.deepEqual((await rows(store, keys.queries)).map((r) => r['_id']), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);

    calls.length = 0;
    assert.equal((await run()).reused, true);
    assert.deepEqual(calls, []);
  });

  it('refuses parts written in shard order when the shard is length-sorted, generating nothing', async () => {
    const store = await shardStore('store-mixed');
    // The first part of a shard-order run: a, b and the poison line.
    await store.put(keys.part(0), ['{"docId":"a","query":"query for a"}', '{"docId":"b","query":"query for b"}', '{"docId":"shards/0.jsonl#line-3","failure":"not JSON at shards/0.jsonl:3"}'].join('\n'));
    const calls: string[][] = [];
    const activities = createGenerationActivities({ store, generatorFor: async () => recording(calls) });
    const input: GenerateShardInput = { index: 0, shardKey: 'shards/0.jsonl', outputPrefix: 'gen', shared: sorted };
    await assert.rejects(new MockActivityEnvironment().run(activities.generateShard, input), (err: Error) => {
      assert.equal(err.name, 'CorruptArtifactError');
      assert.equal(err.message, `checkpoint parts under ${keys.partPrefix}* do not match the shard's documents; delete them to restart the shard`);
      return true;
    });
    assert.deepEqual(calls, []);
  });

  it("without the generator's token counts sorts by the characters of the document as the prompt cuts it", async () => {
    const store = new LocalArtifactStore(join(dir, 'store-proxy'));
    const proxyDocs = [
      { _id: 'p', title: '', text: 'a b c ddddddddddddddddddddddddd' }, // cut to 3 words: "a b c", 5 characters
      { _id: 'q', title: '', text: 'longword longword' }, // 17 characters
      { _id: 'r', title: 'T', text: 'xy' }, // "T xy", 4 characters
    ];
    await store.put('shards/0.jsonl', proxyDocs.map((d) => JSON.stringify(d)).join('\n'));
    const calls: string[][] = [];
    const generator: QueryGenerator = {
      batchSize: 1,
      generate: async (batch) => {
        calls.push(batch.map((d) => d._id));
        return batch.map((d) => ({ query: `query for ${d._id}` }));
      },
    };
    const activities = createGenerationActivities({ store, generatorFor: async () => generator });
    const shared = { lengthSortedBatches: true, maxDocumentWords: 3 } as GenerationSettings;
    await new MockActivityEnvironment().run(activities.generateShard, { index: 0, shardKey: 'shards/0.jsonl', outputPrefix: 'gen', shared });
    assert.deepEqual(calls, [['r'], ['p'], ['q']]);
    assert.deepEqual((await rows(store, keys.queries)).map((r) => r['_id']), ['p', 'q', 'r']);
  });
});
