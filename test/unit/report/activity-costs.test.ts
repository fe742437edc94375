import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { activityCostInterceptors, markReused } from '../../../activities/activity-costs.ts';
import { storedPart, storedResult } from '../../../activities/stored-results.ts';
import { costPrefix } from '../../../common/artifact-keys.ts';
import { readCostRecords } from '../../../lib/report/cost-records.ts';
import { LocalArtifactStore, type ArtifactStore } from '../../../lib/artifact-store/index.ts';

const context = (workflowId: string | undefined, attempt = 1): Context =>
  ({
    info: { activityType: 'generateShard', activityId: '4', attempt, ...(workflowId ? { workflowExecution: { workflowId, runId: 'r' } } : {}) },
    log: { warn: () => undefined },
  }) as unknown as Context;

/** Fixed CPU work, so the measured CPU time cannot be zero. */
const burn = (): string => {
  let h = 'x';
  for (let i = 0; i < 20_000; i++) h = createHash('sha256').update(h).digest('hex');
  return h;
};

describe('activity cost interceptor', () => {
  let dir: string;
  let store: LocalArtifactStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-costs-'));
    store = new LocalArtifactStore(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const run = (s: ArtifactStore, ctx: Context, fn: () => Promise<unknown>, warn?: (m: string) => void) =>
    activityCostInterceptors({ store: s, ...(warn ? { warn } : {}) })(ctx).inbound!.execute!({ args: [], headers: {} }, fn);

  it('stores one record per attempt under the root pipeline id', async () => {
    const result = await run(store, context('run:1/generate-sptar/shard-2', 2), async () => burn());
    assert.equal(typeof result, 'string');
    const keys = await store.list(costPrefix('run:1'));
    assert.deepEqual(keys, ['costs/run-1/generateShard-run-1-generate-sptar-shard-2-4-attempt-2-run-r.json']);
    const { records, problems } = await readCostRecords(store, 'run:1');
    assert.deepEqual(problems, []);
    const r = records[0]!;
    assert.deepEqual({ ...r, wallSeconds: 0, cpuSeconds: 0, startedAt: '' }, {
      activityType: 'generateShard', activityId: '4', workflowId: 'run:1/generate-sptar/shard-2', attempt: 2, startedAt: '', wallSeconds: 0, cpuSeconds: 0, ok: true, reused: false,
    });
    assert.ok(r.cpuSeconds > 0 && r.wallSeconds > 0);
  });

  it('records failed attempts and rethrows their error', async () => {
    await assert.rejects(run(store, context('run-2'), async () => { throw new Error('boom'); }), /boom/);
    const { records } = await readCostRecords(store, 'run-2');
    assert.equal(records.length, 1);
    assert.equal(records[0]!.ok, false);
  });

  it('never fails the activity when the record cannot be stored', async () => {
    const warnings: string[] = [];
    const broken = { ...store, list: store.list.bind(store), put: () => Promise.reject(new Error('store down')) } as unknown as ArtifactStore;
    assert.equal(await run(broken, context('run-3'), async () => 7, (m) => warnings.push(m)), 7);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /could not store the cost record of generateShard \(run-3, attempt 1\): store down/);
  });

  it('marks an attempt that returned a stored result as reused, and only that attempt', async () => {
    const interceptors = [activityCostInterceptors({ store })];
    const info = { activityType: 'trainRetriever', workflowExecution: { workflowId: 'run-5', runId: 'r' } };
    await new MockActivityEnvironment({ ...info, activityId: 'stored' }, { interceptors }).run(async () => {
      markReused();
      return 1;
    });
    await new MockActivityEnvironment({ ...info, activityId: 'computed' }, { interceptors }).run(async () => burn());
    const { records } = await readCostRecords(store, 'run-5');
    assert.deepEqual(records.map((r) => [r.activityId, r.reused]).sort(), [['computed', false], ['stored', true]]);
    // Outside an activity it does nothing.
    assert.doesNotThrow(() => markReused());
  });

  it('a stored result marks the attempt reused; a stored part the attempt works around does not', async () => {
    const interceptors = [activityCostInterceptors({ store })];
    const info = { activityType: 'trainRetriever', workflowExecution: { workflowId: 'run-stored-part', runId: 'r' } };
    await store.put('parts/start.json', JSON.stringify({ devScore: 0.5 }));
    const schema = z.object({ devScore: z.number() });
    await new MockActivityEnvironment({ ...info, activityId: 'result' }, { interceptors }).run(async () => (await storedResult(store, 'parts/start.json', true, schema, 'a score'))?.devScore);
    const part = await new MockActivityEnvironment({ ...info, activityId: 'part' }, { interceptors }).run(async () => (await storedPart(store, 'parts/start.json', true, schema, 'a score'))?.devScore);
    assert.equal(part, 0.5);
    const { records } = await readCostRecords(store, 'run-stored-part');
    assert.deepEqual(records.map((r) => [r.activityId, r.reused]).sort(), [['part', false], ['result', true]]);
  });

  it('keeps the records of an earlier run when the same workflow id runs again', async () => {
    const interceptors = [activityCostInterceptors({ store })];
    for (const runId of ['first', 'second']) {
      await new MockActivityEnvironment({ activityType: 'tunePrompt', activityId: '4', workflowExecution: { workflowId: 'run-6', runId } }, { interceptors }).run(async () => 1);
    }
    assert.deepEqual(await store.list(costPrefix('run-6')), ['costs/run-6/tunePrompt-run-6-4-attempt-1-run-first.json', 'costs/run-6/tunePrompt-run-6-4-attempt-1-run-second.json']);
  });

  it('reads only the attempts that started at or after the given run start', async () => {
    const record = (attempt: number, startedAt: string) =>
      JSON.stringify({ activityType: 'tunePrompt', activityId: '4', workflowId: 'run-7', attempt, startedAt, wallSeconds: 1, cpuSeconds: 1, ok: true });
    await store.put('costs/run-7/tunePrompt-run-7-4-attempt-1-run-first.json', record(1, '2026-12-02T10:00:00.000Z'));
    await store.put('costs/run-7/tunePrompt-run-7-4-attempt-1-run-second.json', record(1, '2026-12-02T12:00:00.000Z'));
    await store.put('costs/run-7/tunePrompt-run-7-4-attempt-2-run-second.json', record(2, '2026-12-02T12:30:00.000Z'));
    assert.deepEqual((await readCostRecords(store, 'run-7')).records.map((r) => r.startedAt), ['2026-12-02T10:00:00.000Z', '2026-12-02T12:00:00.000Z', '2026-12-02T12:30:00.000Z']);
    const since = await readCostRecords(store, 'run-7', { since: '2026-12-02T12:00:00.000Z' });
    assert.deepEqual(since.problems, []);
    assert.deepEqual(since.records.map((r) => `${r.attempt} ${r.startedAt}`), ['1 2026-12-02T12:00:00.000Z', '2 2026-12-02T12:30:00.000Z']);
  });

  it('skips activities outside a workflow and reports unreadable records', async () => {
    assert.equal(await run(store, context(undefined), async () => 1), 1);
    await store.put('costs/run-4/bad.json', '{"activityType": 3}');
    const { records, problems } = await readCostRecords(store, 'run-4');
    assert.equal(records.length, 0);
    assert.match(problems[0]!, /^costs\/run-4\/bad\.json: activityType: /);
  });
});
