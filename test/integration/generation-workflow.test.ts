// Sharded generation on the real dev server and object store. The query generator here is a deterministic
// stand-in (the model is not under test): it counts its calls so the test can prove no finished work is redone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, type Connection } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { createGenerationActivities, type QueryGenerator, type ShardDocument } from '../../activities/generation-activities.ts';
import { generationShardKeys, shardDocumentsKey } from '../../common/artifact-keys.ts';
import type { GenerationProgress, ShardSet } from '../../common/generation-types.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import type { GenerationInput, GenerationResult } from '../../workflows/generation-workflow.ts';
import { connectClient, connectWorker } from '../../workers/temporal-connection.ts';
import { createOrchestratorWorker } from '../../workers/worker.ts';
import { serviceSettings } from '../support/services.ts';
import { TINY_GENERATION_SHARED } from '../support/tiny-generation.ts';

const settings = serviceSettings();
const store = createArtifactStore(settings.store);
const calls = new Map<string, number>();

const generator: QueryGenerator = {
  batchSize: 2,
  async generate(docs: readonly ShardDocument[]) {
    for (const d of docs) calls.set(d._id, (calls.get(d._id) ?? 0) + 1);
    if (docs.some((d) => d.text === 'POISON')) throw new Error('decoder blew up');
    return docs.map((d) => (d.text.trim() === '' ? { failure: 'empty document' } : { query: `what about ${d.title.toLowerCase()}` }));
  },
};

async function writeShards(prefix: string, docsPerShard: string[][]): Promise<ShardSet> {
  const set = { prefix, count: docsPerShard.length, documents: docsPerShard.flat().length };
  for (const [i, texts] of docsPerShard.entries()) {
    const rows = texts.map((text, j) => JSON.stringify({ _id: `d${i}-${j}`, title: `Doc ${i} ${j}`, text }));
    await store.put(shardDocumentsKey(set, i), rows.join('\n') + '\n');
  }
  return set;
}

async function readJsonl(key: string): Promise<unknown[]> {
  const text = new TextDecoder().decode(await store.get(key));
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
}

describe('sharded generation workflow', () => {
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let workers: Worker[];
  let running: Promise<unknown>;

  before(async () => {
    nativeConnection = await connectWorker(settings);
    connection = await connectClient(settings);
    client = new Client({ connection, namespace: settings.namespace });
    const model = await Worker.create({
      connection: nativeConnection,
      namespace: settings.namespace,
      taskQueue: TASK_QUEUES.model,
      activities: createGenerationActivities({ store, generatorFor: async () => generator }),
    });
    workers = [await createOrchestratorWorker(nativeConnection, settings), model];
    running = Promise.all(workers.map((w) => w.run()));
  });

  after(async () => {
    for (const w of workers) w.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
  });

  it('covers every document exactly once across continue-as-new, records poison documents, resumes failed shards', async () => {
    const run = `gen-${Date.now()}`;
    const texts = (n: number, i: number) => Array.from({ length: n }, (_, j) => `text ${i}.${j}`);
    const shardTexts = [texts(3, 0), ['', 'POISON', 'fine'], texts(3, 2), ['x'.repeat(1 << 20), 'short'], texts(3, 4), texts(1, 5), texts(3, 6)];
    const shards = await writeShards(`test/${run}/unlabeled`, shardTexts);
    // A line of invalid UTF-8 in shard 5 (bytes 0xC3 0x28 are never valid): recorded as that document's failure.
    const enc = new TextEncoder();
    const shard5 = await store.get(shardDocumentsKey(shards, 5));
    const bad = new Uint8Array([...enc.encode('{"_id":"d5-bad","title":"t","text":"caf'), 0xc3, 0x28, ...enc.encode('"}\n')]);
    await store.put(shardDocumentsKey(shards, 5), new Uint8Array([...shard5, ...bad]));
    // Shard 4 is missing until repaired: its child fails with a non-retryable DataFormatError.
    await store.delete(shardDocumentsKey(shards, 4));

    const input: GenerationInput = {
      shards,
      task: { outputPrefix: `test/${run}/generate`, shared: TINY_GENERATION_SHARED },
      maxConcurrentShards: 2,
      onShardFailure: 'wait',
      shardsPerRun: 3,
    };
    const handle = await client.workflow.start('generateWeakQueriesWorkflow', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId: `test-${run}`,
      args: [input],
    });

    // Wait until everything but the broken shard is done and the run waits for an operator.
    let progress: GenerationProgress | undefined;
    for (let i = 0; i < 240; i++) {
      progress = await handle.query<GenerationProgress>('generationProgress').catch(() => undefined);
      if (progress && progress.shardsDone === 6 && progress.shardsRunning.length === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(progress?.shardsFailed, [4]);
    assert.equal(progress?.shardsDone, 6);

    // Repair the shard and retry only the failed one.
    await store.put(shardDocumentsKey(shards, 4), shardTexts[4]!.map((t, j) => JSON.stringify({ _id: `d4-${j}`, title: `Doc 4 ${j}`, text: t })).join('\n'));
    const requeued = await handle.executeUpdate<number, [number[]]>('retryFailedShards', { args: [[4]] });
    assert.equal(requeued, 1);
    const result = (await handle.result()) as GenerationResult;

    assert.deepEqual(result, { shardsTotal: 7, shardsFailed: [], documentsDone: 19, generated: 16, failedDocuments: 3 });
    // Every document was generated exactly once; the poison batch was retried per document (d1-0 and d1-1 twice).
    for (const [i, t] of shardTexts.entries()) {
      for (let j = 0; j < t.length; j++) {
        const expected = i === 1 && j < 2 ? 2 : 1;
        assert.equal(calls.get(`d${i}-${j}`), expected, `calls for d${i}-${j}`);
      }
    }
    const failures = await readJsonl(generationShardKeys(`test/${run}/generate`, 1).failures);
    assert.deepEqual(failures, [
      { docId: 'd1-0', reason: 'empty document' },
      { docId: 'd1-1', reason: 'generation error: decoder blew up' },
    ]);
    assert.deepEqual(await readJsonl(generationShardKeys(`test/${run}/generate`, 5).failures), [
      { docId: 'd5-bad', reason: `invalid UTF-8 at ${shardDocumentsKey(shards, 5)}:2` },
    ]);
    assert.deepEqual(await readJsonl(generationShardKeys(`test/${run}/generate`, 3).queries), [
      { _id: 'd3-0', text: 'what about doc 3 0' },
      { _id: 'd3-1', text: 'what about doc 3 1' },
    ]);
    const queries = await readJsonl(generationShardKeys(`test/${run}/generate`, 4).queries);
    assert.deepEqual(queries, [
      { _id: 'd4-0', text: 'what about doc 4 0' },
      { _id: 'd4-1', text: 'what about doc 4 1' },
      { _id: 'd4-2', text: 'what about doc 4 2' },
    ]);
    // 7 shards with 3 per run: the chain continued as new at least twice.
    const desc = await handle.describe();
    assert.notEqual(desc.runId, handle.firstExecutionRunId);

    // The same inputs again: every shard result is reused, nothing is generated.
    const before = [...calls.values()].reduce((a, b) => a + b, 0);
    const again = (await client.workflow.execute('generateWeakQueriesWorkflow', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId: `test-${run}-again`,
      args: [input],
    })) as GenerationResult;
    assert.deepEqual(again, result);
    assert.equal([...calls.values()].reduce((a, b) => a + b, 0), before);
  });
});
