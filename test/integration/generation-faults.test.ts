// Fault tests of sharded generation against the real dev server and object store, with the orchestrator and the
// model worker each in its own process, the model worker running the real weak query writer on a seeded tiny LLaMA:
// SIGKILL of the model worker, of the orchestrator worker and of the Temporal server; two workers with separate
// working directories; a model worker that stalls past its heartbeat timeout and then goes on, beside the attempt
// that replaced it; a Temporal server restart; and object-store outages of 30 s and (SPTAR_LONG_FAULTS=1) 10 minutes
// mid-run. Greedy decoding is deterministic, so every faulted run must write the same outcome for every document as
// a clean one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { createLlmActivities } from '../../activities/llm-activities.ts';
import { shardDocumentsKey } from '../../common/artifact-keys.ts';
import type { GenerationProgress, ShardSet } from '../../common/generation-types.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import type { GenerationInput, GenerationResult } from '../../workflows/generation-workflow.ts';
import { connectClient } from '../../workers/temporal-connection.ts';
import { recordHistory } from '../support/record-histories.ts';
import { repoRoot, services, serviceSettings } from '../support/services.ts';
import { TINY_GENERATION_SHARED } from '../support/tiny-generation.ts';

const settings = serviceSettings();
const store = createArtifactStore(settings.store);
const SHARDS = 4;
const DOCS_PER_SHARD = 6;

/** A worker process from test/support, resolved once it prints its ready line. */
function startWorkerProcess(script: string, ready: string, env: Record<string, string>, cwd = repoRoot): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', join(repoRoot, 'node_modules/tsx/dist/esm/index.mjs'), join(repoRoot, 'test/support', script)], {
    cwd,
    env: { ...process.env, SPTAR_LOG_LEVEL: 'ERROR', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes(ready)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited early (${code})`)));
  });
}

/** A model worker process; `cwd` lets each worker have its own working directory, as on separate machines. */
const startModelWorker = (callsLog: string, cwd = repoRoot): Promise<ChildProcess> =>
  startWorkerProcess('model-worker-process.ts', 'model worker ready', { SPTAR_TEST_CALLS_LOG: callsLog, SPTAR_TEST_MS_PER_DOC: '250' }, cwd);

const startOrchestrator = (): Promise<ChildProcess> => startWorkerProcess('orchestrator-worker-process.ts', 'orchestrator worker ready', {});

/** Sends `signal` to the Temporal dev server the tests' services script started (its process group). */
async function signalTemporal(signal: NodeJS.Signals): Promise<void> {
  const pid = Number((await readFile(join(process.env['SPTAR_STATE_DIR']!, 'pids', 'temporal.pid'), 'utf8')).trim());
  assert.ok(pid > 1, 'the tests\' Temporal dev server has a pid file');
  process.kill(-pid, signal);
}

/** Waits until `child` has exited (after a SIGKILL the kernel reaps it at once). */
const exited = (child: ChildProcess): Promise<void> => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r())));

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

/** Shards finished at a progress snapshot: shards start in index order, so the started ones are 0..n-1. */
function finishedShards(p: GenerationProgress): number[] {
  const started = p.shardsDone + p.shardsRunning.length + p.shardsFailed.length;
  return Array.from({ length: started }, (_, i) => i).filter((i) => !p.shardsRunning.includes(i) && !p.shardsFailed.includes(i));
}

/** Waits (up to 60 s) until the documents a worker was asked about satisfy `pred`; returns them. */
async function waitForCalls(callsLog: string, pred: (ids: readonly string[]) => boolean): Promise<string[]> {
  for (let i = 0; i < 600; i++) {
    const ids = [...(await callCounts(callsLog).catch(() => new Map<string, number>())).keys()];
    if (pred(ids)) return ids;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${callsLog}: condition on the generated documents not reached in 60 s`);
}

/**
 * Documents of shards that had finished at `finishedShards` were generated exactly once, and at most the batch in
 * flight of each running shard was generated again (batch size 2, two shards at a time). Returns the repeats.
 */
function assertNoFinishedWorkRedone(calls: ReadonlyMap<string, number>, finishedShards: readonly number[]): number {
  let regenerated = 0;
  for (const [id, n] of calls) {
    const shard = Number(id.slice(1, id.indexOf('-')));
    if (finishedShards.includes(shard)) assert.equal(n, 1, `${id} of a shard finished before the fault`);
    regenerated += n - 1;
  }
  assert.equal(calls.size, SHARDS * DOCS_PER_SHARD);
  assert.ok(regenerated <= 4, `regenerated ${regenerated} documents`);
  return regenerated;
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
  let connection: Connection;
  let client: Client;
  let orchestrator: ChildProcess;
  let dir: string;
  let clean: Map<string, string>;
  const children: ChildProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-faults-'));
    clean = await cleanOutcomes();
    assert.equal(clean.size, SHARDS * DOCS_PER_SHARD);
    connection = await connectClient(settings);
    client = new Client({ connection, namespace: settings.namespace });
    orchestrator = await startOrchestrator();
  });

  after(async () => {
    for (const c of [...children, orchestrator]) c.kill('SIGKILL');
    await connection.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Stops every model worker of the previous test, so the next one's calls log sees all of its run. */
  const stopModelWorkers = async () => {
    const stopping = children.splice(0);
    for (const c of stopping) c.kill('SIGKILL');
    await Promise.all(stopping.map(exited));
  };

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
    // Documents of shards finished before the kill were generated once, and never again.
    assertNoFinishedWorkRedone(await callCounts(callsLog), finishedShards(atKill));
    assert.ok(callsBefore.size > 12, 'the kill happened mid-shard, after some checkpoints');
    // A shard that was running at the kill: its activity was retried after the heartbeat timeout.
    const retried = atKill.shardsRunning[0];
    if (retried !== undefined) recordHistory('generation-shard-retried-after-worker-kill', `${handle.workflowId}/shard-${retried}`);
  });

  it('two model workers with separate working directories share one run', async () => {
    await stopModelWorkers();
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

  it('pause stops new shards (those running finish), resume goes on; the run completes exactly once', async () => {
    await stopModelWorkers();
    children.push(await startModelWorker(join(dir, 'pause.calls')));
    const { handle, prefix } = await start('pause');
    await waitFor(handle, (p) => p.documentsDone >= 2);
    await handle.executeUpdate('pauseGeneration');
    const paused = await waitFor(handle, (p) => p.paused && p.shardsRunning.length === 0);
    assert.ok(paused.shardsDone < SHARDS, 'paused before the last shard started');
    await new Promise((r) => setTimeout(r, 2000));
    const still = await handle.query<GenerationProgress>('generationProgress');
    assert.deepEqual([still.shardsDone, still.shardsRunning, still.documentsDone], [paused.shardsDone, [], paused.documentsDone], 'no shard starts while paused');
    await handle.executeUpdate('resumeGeneration');
    const result = (await handle.result()) as GenerationResult;
    assert.equal(result.documentsDone, 24);
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
    recordHistory('generation-paused-and-resumed', handle.workflowId);
  });

  it('a Temporal server restart mid-run: the run completes', async () => {
    await stopModelWorkers();
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

  /** The object store down for `seconds` once a shard has finished: the run waits, then completes exactly once. */
  async function outage(name: string, seconds: number): Promise<void> {
    await stopModelWorkers();
    const callsLog = join(dir, `${name}.calls`);
    children.push(await startModelWorker(callsLog));
    const { handle, prefix } = await start(name);
    const atStop = await waitFor(handle, (p) => p.shardsDone >= 1);
    services('stop', 'objectstore');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    services('start', 'objectstore');
    const result = (await handle.result()) as GenerationResult;
    assert.equal(result.documentsDone, 24);
    assert.deepEqual(result.shardsFailed, []);
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
    assertNoFinishedWorkRedone(await callCounts(callsLog), finishedShards(atStop));
  }

  it('the object store unreachable for 30 s: the run waits and completes', () => outage('outage', 30));

  // Ten minutes of outage take about 11 minutes of retries (ML_LONG backs off 5 s, 10 s, ... to a retry 635 s after
  // the first failure), too long for every suite run: opt in with SPTAR_LONG_FAULTS=1.
  it('the object store unreachable for 10 minutes: the run waits and completes', { skip: process.env['SPTAR_LONG_FAULTS'] !== '1' && 'set SPTAR_LONG_FAULTS=1', timeout: 40 * 60_000 }, () => outage('long-outage', 600));

  /** A run with one model worker, `fault` once a shard is done and the next is part-way: it completes, nothing finished redone. */
  async function completesAfter(name: string, fault: () => Promise<void>): Promise<void> {
    await stopModelWorkers();
    const callsLog = join(dir, `${name}.calls`);
    children.push(await startModelWorker(callsLog));
    const { handle, prefix } = await start(name);
    const atFault = await waitFor(handle, (p) => p.shardsDone >= 1 && p.documentsDone >= 8);
    await fault();
    const result = (await handle.result()) as GenerationResult;
    assert.equal(result.documentsDone, 24);
    assert.deepEqual(result.shardsFailed, []);
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
    assertNoFinishedWorkRedone(await callCounts(callsLog), finishedShards(atFault));
  }

  it('SIGKILL of the orchestrator worker mid-run: another one finishes the run, finished shards not redone', () =>
    completesAfter('orchestrator-kill', async () => {
      orchestrator.kill('SIGKILL');
      await exited(orchestrator);
      // The model worker goes on with the shards it holds while no orchestrator runs.
      await new Promise((r) => setTimeout(r, 2000));
      orchestrator = await startOrchestrator();
    }));

  it('SIGKILL of the Temporal server mid-run: the run completes from its persisted state, finished shards not redone', () =>
    completesAfter('temporal-kill', async () => {
      await signalTemporal('SIGKILL');
      services('start', 'temporal');
    }));

  it('a model worker that stalls past its heartbeat timeout and then goes on, beside the attempt that replaced it: one outcome per document', async () => {
    await stopModelWorkers();
    const [stalledLog, otherLog] = [join(dir, 'stalled.calls'), join(dir, 'other.calls')];
    const stalled = await startModelWorker(stalledLog);
    children.push(stalled);
    const { handle, prefix } = await start('two-attempts');
    const [first] = await waitForCalls(stalledLog, (ids) => ids.length >= 2);
    const stalledShard = first!.slice(0, first!.indexOf('-') + 1);
    // Frozen, it sends no heartbeat: after 3 s the server counts its attempt as lost and retries the shard elsewhere.
    stalled.kill('SIGSTOP');
    children.push(await startModelWorker(otherLog));
    await waitForCalls(otherLog, (ids) => ids.some((id) => id.startsWith(stalledShard)));
    // Thawed, the old attempt still runs: two live attempts of one shard write to the same keys.
    stalled.kill('SIGCONT');
    const result = (await handle.result()) as GenerationResult;
    assert.equal(result.documentsDone, 24);
    assert.deepEqual(result.shardsFailed, []);
    assert.deepEqual(await assertExactlyOnce(prefix), clean);
  });
});
