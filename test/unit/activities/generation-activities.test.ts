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
});
