import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { storedResult, storeOnce } from '../../../activities/stored-results.ts';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';

async function withStore(fn: (store: LocalArtifactStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sptar-stored-'));
  try {
    await fn(new LocalArtifactStore(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('stored stage results', () => {
  it('storeOnce computes once and then reuses, unless reuse is off', () =>
    withStore(async (store) => {
      let calls = 0;
      const compute = async () => `value ${++calls}`;
      const first = await storeOnce(store, 'r/s/h/out', true, compute);
      const second = await storeOnce(store, 'r/s/h/out', true, compute);
      assert.deepEqual([first.reused, second.reused, calls], [false, true, 1]);
      assert.deepEqual(second.ref, first.ref);
      const third = await storeOnce(store, 'r/s/h/out', false, compute);
      assert.deepEqual([third.reused, calls, new TextDecoder().decode(await store.get(third.ref))], [false, 2, 'value 2']);
    }));

  it('storedResult returns a parsed record, nothing when absent or reuse is off, and names a corrupt one', () =>
    withStore(async (store) => {
      const schema = z.object({ n: z.number() });
      assert.equal(await storedResult(store, 'r/s/h/result.json', true, schema, 'a result'), undefined);
      await store.put('r/s/h/result.json', JSON.stringify({ n: 3 }));
      assert.deepEqual(await storedResult(store, 'r/s/h/result.json', true, schema, 'a result'), { n: 3 });
      assert.equal(await storedResult(store, 'r/s/h/result.json', false, schema, 'a result'), undefined);
      await store.put('r/s/h/bad.json', JSON.stringify({ n: 'three' }));
      await assert.rejects(storedResult(store, 'r/s/h/bad.json', true, schema, 'a result'), (err: Error) => {
        assert.equal(err.name, 'CorruptArtifactError');
        assert.match(err.message, /^r\/s\/h\/bad\.json is not a result \(n: .*\); delete it/);
        return true;
      });
      await store.put('r/s/h/text.json', 'not json');
      await assert.rejects(storedResult(store, 'r/s/h/text.json', true, schema, 'a result'), /r\/s\/h\/text\.json is not JSON/);
    }));
});
