// Fault tests of sharded generation against the real dev server and object store, with the model worker in its
// own process running the real weak query writer on a seeded tiny LLaMA: SIGKILL of the model worker, two workers
// with separate working directories, a Temporal server restart and a 30 s object-store outage mid-run. Greedy
// decoding is deterministic, so every faulted run must write the same outcome for every document as a clean one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { createLlmActivities } from '../../activities/llm-activities.ts';
import { shardDocumentsKey } from '../../common/artifact-keys.ts';
import type { GenerationProgress, ShardSet } from '../../common/generation-types.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import type { GenerationInput, GenerationResult } from '../../workflows/generation-workflow.ts';
import { connectClient, connectWorker } from '../../workers/temporal-connection.ts';
import { createOrchestratorWorker } from '../../workers/worker.ts';
import { repoRoot, services, serviceSettings } from '../support/services.ts';
import { TINY_GENERATION_SHARED } from '../support/tiny-generation.ts';

const settings = serviceSettings();
const store = createArtifactStore(settings.store);
const SHARDS = 4;
const DOCS_PER_SHARD = 6;

/** A model worker process; `cwd` lets each worker have its own working directory, as on separate machines. */
function startModelWorker(callsLog: string, cwd = repoRoot): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', join(repoRoot, 'node_modules/tsx/dist/esm/index.mjs'), join(repoRoot, 'test/support/model-worker-process.ts')], {
    cwd,
    env: { ...process.env, SPTAR_TEST_CALLS_LOG: callsLog, SPTAR_TEST_MS_PER_DOC: '250', SPTAR_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('model worker ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`model worker exited early (${code})`)));
  });
}

const shardDocs = (i: number) => Array.from({ length: DOCS_PER_SHARD }, (_, j) => ({ _id: `d${i}-${j}`, title: '', text: `doc ${i} ${j} about protein folding` }));

async function writeShards(prefix: string): Promise<ShardSet> {
  const set = { prefix, count: SHARDS, documents: SHARDS * DOCS_PER_SHARD };
  for (let i = 0; i < SHARDS; i++) await store.put(shardDocumentsKey(set, i), shardDocs(i).map((d) => JSON.stringify(d)).join('\n'));
  return set;
}

/** What a run without faults writes: the same writer in this process, shard by shard, in the workers' batches. */
async function cleanOutcomes(): Promise<Map<string, string>> {
  const generator = await createLlmActivities({ store, dataRoots: settings.dataRoots }).generatorFor(TINY_GENERATION_SHARED);
  const outcomes = new Map<string, string>();
  for (let i = 0; i < SHARDS; i++) {
    const docs = shardDocs(i);
    for (let b = 0; b < docs.length; b += generator.batchSize) {
      const batch = docs.slice(b, b + generator.batchSize);
      (await generator.generate(batch)).forEach((o, k) => outcomes.set(batch[k]!._id, 'query' in o ? `q:${o.query}` : `f:${o.failure}`));
    }
  }
  return outcomes;
}

async function waitFor(handle: WorkflowHandle, pred: (p: GenerationProgress) => boolean): Promise<GenerationProgress> {
  for (let i = 0; i < 600; i++) {
    const p = await handle.query<GenerationProgress>('generationProgress').catch(() => undefined);
    if (p && pred(p)) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('progress condition not reached in 60 s');
}

async function callCounts(callsLog: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const id of (await readFile(callsLog, 'utf8')).split('\n').filter(Boolean)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/**
 * Every shard's outputs hold each of its documents exactly once, as a query or a failure; returns the outcome of
 * every document (`q:<query>` or `f:<reason>`).
 */
async function assertExactlyOnce(prefix: string): Promise<Map<string, string>> {
  const outcomes = new Map<string, string>();
  for (let i = 0; i < SHARDS; i++) {
    const base = `${prefix}/shard-${String(i).padStart(6, '0')}`;
    const lines = async (k: string) => new TextDecoder().decode(await store.get(k)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    const queries = await lines(`${base}.queries.jsonl`);
    const failures = await lines(`${base}.failures.jsonl`);
    const ids = [...queries.map((r) => r['_id']), ...failures.map((r) => r['docId'])];
    assert.deepEqual(ids.sort(), Array.from({ length: DOCS_PER_SHARD }, (_, j) => `d${i}-${j}`).sort(), `shard ${i}`);
    for (const r of queries) outcomes.set(r['_id']!, `q:${r['text']}`);
    for (const r of failures) outcomes.set(r['docId']!, `f:${r['reason']}`);
  }
  return outcomes;
}

describe('generation survives faults', () => {
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let orchestrator: Worker;
  let running: Promise<void>;
  let dir: string;
  let clean: Map<string, string>;
  const children: ChildProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-faults-'));
    clean = await cleanOutcomes();
    assert.equal(clean.size, SHARDS * DOCS_PER_SHARD);
    nativeConnection = await connectWorker(settings);
    connection = await connectClient(settings);
    client = new Client({ connection, namespace: settings.namespace });
    orchestrator = await createOrchestratorWorker(nativeConnection, settings);
    running = orchestrator.run();
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    orchestrator.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(name: string): Promise<{ handle: WorkflowHandle; prefix: string }> {
    const run = `${name}-${Date.now()}`;
    const shards = await writeShards(`test/${run}/unlabeled`);
    const input: GenerationInput = {
      shards,
      task: { outputPrefix: `test/${run}/generate`, shared: TINY_GENERATION_SHARED },
      maxConcurrentShards: 2,
      onShardFailure: 'continue',
      heartbeatTimeoutSeconds: 3,
    };
    const handle = await client.workflow.start('generateWeakQueriesWorkflow', { taskQueue: TASK_QUEUES.orchestrator, workflowId: `test-${run}`, args: [input] });
    return { handle, prefix: input.task.outputPrefix };
  }

  it('SIGKILL of the model worker mid-shard: completes, exactly once, finished shards not regenerated', async () => {
    const callsLog = join(dir, 'kill.calls');
    const first = await startModelWorker(callsLog);
    children.push(first);
    const { handle, prefix } = await start('kill');
    // Kill once two shards are finished and the next two are part-way.
    const atKill = await waitFor(handle, (p) => p.shardsDone >= 2 && p.documentsDone >= 12);
    await new Promise((r) => setTimeout(r, 600));
    first.kill('SIGKILL');
    const callsBefore = await callCounts(callsLog);
    children.push(await startModelWorker(callsLog));
    const result = (await handle.result()) as GenerationResult;

    const failedDocuments = [...clean.values()].filter((o) => o.startsWith('f:')).length;
    assert.deepEqual(result, { shardsTotal: 4, shardsFailed: [], documentsDone: 24, generated: 24 - failedDocuments, failedDocuments });
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
    const calls = await callCounts(callsLog);
    // Documents of shards finished before the kill were generated once, and never again.
    const finishedShards = atKill.shardsDone;
    let regenerated = 0;
    for (const [id, n] of calls) {
      const shard = Number(id.slice(1, id.indexOf('-')));
      if (shard < finishedShards) assert.equal(n, 1, `${id} of a finished shard`);
      regenerated += n - 1;
    }
    assert.equal(calls.size, 24);
    // At most the batch in flight in each of the two running shards is generated again (batch size 2).
    assert.ok(regenerated <= 4, `regenerated ${regenerated} documents`);
    assert.ok(callsBefore.size > 12, 'the kill happened mid-shard, after some checkpoints');
  });

  it('two model workers with separate working directories share one run', async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    const logs = [join(dir, 'w1.calls'), join(dir, 'w2.calls')];
    for (const [i, log] of logs.entries()) {
      const cwd = await mkdtemp(join(dir, `worker-${i}-`));
      children.push(await startModelWorker(log, cwd));
    }
    const { handle, prefix } = await start('two-workers');
    const result = (await handle.result()) as GenerationResult;
    assert.equal(result.documentsDone, 24);
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
    const [a, b] = await Promise.all(logs.map(callCounts));
    assert.ok(a!.size > 0 && b!.size > 0, `both workers generated (${a!.size} and ${b!.size} documents)`);
    assert.equal(a!.size + b!.size, 24);
  });

  it('a Temporal server restart mid-run: the run completes', async () => {
    const callsLog = join(dir, 'restart.calls');
    children.push(await startModelWorker(callsLog));
    const { handle, prefix } = await start('restart');
    await waitFor(handle, (p) => p.documentsDone >= 6);
    services('restart', 'temporal');
    const result = (await handle.result()) as GenerationResult;
    assert.equal(result.documentsDone, 24);
    assert.deepEqual(result.shardsFailed, []);
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
  });

  it('the object store unreachable for 30 s: the run waits and completes', async () => {
    const callsLog = join(dir, 'outage.calls');
    children.push(await startModelWorker(callsLog));
    const { handle, prefix } = await start('outage');
    await waitFor(handle, (p) => p.documentsDone >= 6);
    services('stop', 'objectstore');
    await new Promise((r) => setTimeout(r, 30_000));
    services('start', 'objectstore');
    const result = (await handle.result()) as GenerationResult;
    assert.equal(result.documentsDone, 24);
    assert.deepEqual(result.shardsFailed, []);
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
  });
});
