import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBm25Activities } from '../../../activities/bm25-activities.ts';
import { pacedItems, startHeartbeatClock, withHeartbeatClock, type ClockTimers } from '../../../activities/heartbeat-clock.ts';
import { generationShardKeys } from '../../../common/artifact-keys.ts';
import type { ArtifactRef } from '../../../common/artifact-ref.ts';
import type { PreparedData } from '../../../common/pipeline-stages.ts';
import { LocalArtifactStore, type ArtifactStore } from '../../../lib/artifact-store/index.ts';

/** Timers on a clock the test moves: `advance` runs every interval that falls due, in time order. */
class FakeTimers implements ClockTimers {
  t = 0;
  yields = 0;
  private nextId = 1;
  private readonly intervals = new Map<number, { fn: () => void; ms: number; due: number }>();
  now = (): number => this.t;
  setInterval = (fn: () => void, ms: number): number => {
    const id = this.nextId++;
    this.intervals.set(id, { fn, ms, due: this.t + ms });
    return id;
  };
  clearInterval = (handle: unknown): void => {
    this.intervals.delete(handle as number);
  };
  yieldToEventLoop = async (): Promise<void> => {
    this.yields++;
  };
  get running(): number {
    return this.intervals.size;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.intervals.values()].filter((i) => i.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.t = next.due;
      next.due += next.ms;
      next.fn();
    }
    this.t = end;
  }
}

describe('heartbeat clock', () => {
  it('re-sends the latest details so that no gap exceeds the interval, and stops', () => {
    const timers = new FakeTimers();
    const sent: { at: number; details: unknown }[] = [];
    const clock = startHeartbeatClock((details) => sent.push({ at: timers.t, details }), { initial: 'start', everyMs: 30_000, timers });
    assert.deepEqual(sent, [{ at: 0, details: 'start' }]);
    // Silent work for 100 s: the clock beats at 15 s ticks, each when nothing went out for 15 s.
    timers.advance(100_000);
    assert.deepEqual(sent.map((s) => s.at), [0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000]);
    assert.ok(sent.every((s) => s.details === 'start'));
    // Beats of the work go out at once (minGapMs 0) and postpone the clock's next one.
    timers.advance(2_000);
    clock.beat('a');
    timers.advance(10_000);
    clock.beat('b');
    timers.advance(40_000);
    // Ticks at 105 s and 120 s find a heartbeat younger than 15 s; those at 135 s and 150 s send.
    assert.deepEqual(sent.slice(7), [
      { at: 102_000, details: 'a' },
      { at: 112_000, details: 'b' },
      { at: 135_000, details: 'b' },
      { at: 150_000, details: 'b' },
    ]);
    const gaps = sent.slice(1).map((s, i) => s.at - sent[i]!.at);
    assert.ok(Math.max(...gaps) <= 30_000, `gaps ${gaps.join(', ')}`);
    clock.stop();
    assert.equal(timers.running, 0);
    timers.advance(100_000);
    assert.equal(sent.length, 11);
  });

  it('throttles beats to minGapMs, sends the held one on the next tick, and waits for the first beat without initial details', () => {
    const timers = new FakeTimers();
    const sent: { at: number; details: unknown }[] = [];
    const clock = startHeartbeatClock((details) => sent.push({ at: timers.t, details }), { everyMs: 30_000, minGapMs: 1_000, timers });
    timers.advance(40_000);
    assert.deepEqual(sent, [], 'nothing to send before the first beat');
    for (let i = 1; i <= 5; i++) {
      clock.beat({ done: i });
      timers.advance(300);
    }
    // The first beat goes out; the next ones within a second are held; the one at 41.2 s is a second after it.
    assert.deepEqual(sent, [
      { at: 40_000, details: { done: 1 } },
      { at: 41_200, details: { done: 5 } },
    ]);
    clock.beat({ done: 6 });
    timers.advance(15_000);
    // Held at 41.5 s; the tick at 45 s sends it although the last heartbeat is younger than 15 s.
    assert.deepEqual(sent.at(-1), { at: 45_000, details: { done: 6 } });
    clock.stop();
  });

  it('a failing send from a tick is swallowed, one from a beat reaches the work; withHeartbeatClock stops on a throw', async () => {
    const timers = new FakeTimers();
    let fail = false;
    const clock = startHeartbeatClock(() => {
      if (fail) throw new Error('cannot heartbeat');
    }, { initial: 1, timers });
    fail = true;
    assert.doesNotThrow(() => timers.advance(60_000));
    assert.throws(() => clock.beat(2), /cannot heartbeat/);
    clock.stop();

    await assert.rejects(
      withHeartbeatClock(() => undefined, { initial: 0, timers }, async () => {
        assert.equal(timers.running, 1);
        throw new Error('work failed');
      }),
      /work failed/,
    );
    assert.equal(timers.running, 0);
  });

  it('paces a loop: a beat per item and a yield to the event loop once breatheEveryMs has passed', async () => {
    const timers = new FakeTimers();
    const sent: unknown[] = [];
    const seen: number[] = [];
    await withHeartbeatClock((d) => sent.push(d), { timers, breatheEveryMs: 100 }, async (clock) => {
      for await (const item of pacedItems([10, 20, 30, 40], clock, (done) => ({ done }))) {
        seen.push(item);
        timers.advance(60);
      }
    });
    assert.deepEqual(seen, [10, 20, 30, 40]);
    assert.deepEqual(sent, [{ done: 1 }, { done: 2 }, { done: 3 }, { done: 4 }]);
    // At 120 ms and at 240 ms at least 100 ms had passed since the last yield.
    assert.equal(timers.yields, 2);
  });
});

/** A store whose transfers take simulated time: every get, getFile, put and putFile moves the fake clock by `ms`. */
function slowStore(store: ArtifactStore, timers: FakeTimers, ms: number): ArtifactStore {
  return {
    location: store.location,
    async put(key, data) {
      timers.advance(ms);
      return store.put(key, data);
    },
    async putFile(key, path) {
      timers.advance(ms);
      return store.putFile(key, path);
    },
    async get(key) {
      timers.advance(ms);
      return store.get(key);
    },
    async getFile(key, path) {
      timers.advance(ms);
      return store.getFile(key, path);
    },
    stat: (key) => store.stat(key),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
  };
}

describe('BM25 activities heartbeat on the clock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-heartbeat-clock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const recording = (timers: FakeTimers) => {
    const env = new MockActivityEnvironment();
    const beats: { at: number; details: unknown }[] = [];
    env.on('heartbeat', (details: unknown) => beats.push({ at: timers.t, details }));
    return { env, beats };
  };
  const maxGap = (beats: readonly { at: number }[], end: number) => Math.max(...[...beats.map((b) => b.at), end].map((t, i, all) => (i === 0 ? t : t - all[i - 1]!)));

  it('mergeKeptPairs heartbeats at least every 30 s while shards take 70 s each to read', async () => {
    const base = new LocalArtifactStore(join(dir, 'merge'));
    for (let i = 0; i < 3; i++) {
      const keys = generationShardKeys('run/generate', i);
      const kept = await base.put(keys.kept(5), `{"queryId":"weak-d${i}","docId":"d${i}","query":"q${i}","rank":1}\n`);
      const ref: ArtifactRef = kept;
      await base.put(keys.result, JSON.stringify({ index: i, documents: 1, generated: 1, failed: 0, weakQueries: ref, failures: ref, reused: false }));
    }
    const timers = new FakeTimers();
    const store = slowStore(base, timers, 70_000);
    const { env, beats } = recording(timers);
    const activities = createBm25Activities({ store, heartbeats: { timers } });
    const merged = (await env.run(activities.mergeKeptPairs, { outputPrefix: 'run/generate', topK: 5, shards: 3 })) as { kept: number; shards: number };
    assert.deepEqual({ kept: merged.kept, shards: merged.shards }, { kept: 3, shards: 3 });
    // Two reads per shard and the merged file's write: 490 s; before, the merge heartbeat after every 100th shard only.
    assert.equal(timers.t, 490_000);
    assert.ok(maxGap(beats, timers.t) <= 30_000, `largest gap ${maxGap(beats, timers.t)} ms`);
    assert.deepEqual(beats[0]!.details, { shardsMerged: 0, of: 3 });
    assert.deepEqual(beats.at(-1)!.details, { shardsMerged: 3, of: 3, step: 'storing the merged pairs' });
    assert.equal(timers.running, 0, 'the clock stops with the activity');
  });

  it('buildBm25Index heartbeats while the corpus is copied and counts the documents it indexed', async () => {
    const base = new LocalArtifactStore(join(dir, 'index'));
    const corpus = await base.put('data/corpus.jsonl', Array.from({ length: 50 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: '', text: `document ${i} about topic ${i % 7}` })).join('\n') + '\n');
    const timers = new FakeTimers();
    const store = slowStore(base, timers, 100_000);
    const { env, beats } = recording(timers);
    const activities = createBm25Activities({ store, heartbeats: { timers } });
    const prepared = { corpus } as PreparedData;
    const ref = (await env.run(activities.buildBm25Index, { config: { reuseArtifacts: false, weakFilter: { backend: 'compact' as const, k1: 0.9, b: 0.4 } }, scope: 'run', prepared })) as ArtifactRef;
    assert.ok(ref.bytes > 0);
    assert.ok(maxGap(beats, timers.t) <= 30_000, `largest gap ${maxGap(beats, timers.t)} ms`);
    // 100 s of copying: the first beat and the clock's at 15 s ticks; then the indexing (the first document's beat
    // goes out, the others within a second are held) and 100 s of storing the index, its count in the details.
    assert.deepEqual(beats.slice(0, 7).map((b) => [b.at, (b.details as { step: string }).step]), [0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000].map((t) => [t, 'copying the corpus']));
    assert.deepEqual(beats.at(-1)!.details, { step: 'storing the index', documents: 50 });
  });
});
