import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalArtifactStore } from '../../../activities/artifact-store/index.ts';
import { canonicalJson, stageKey, stageScope, storeOnce } from '../../../activities/stage-artifacts.ts';

const ref = (sha: string) => ({ key: 'k', sha256: sha.repeat(64), bytes: 1 });

describe('stage artifact keys', () => {
  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('the same inputs give the same key; any changed input changes it', () => {
    const a = stageScope('scifact', 'prepare', { seed: 13, x: 50 }, [ref('a')]);
    const b = stageScope('scifact', 'prepare', { x: 50, seed: 13 }, [ref('a')]);
    assert.equal(stageKey(a, 'splits.json'), stageKey(b, 'splits.json'));
    assert.match(stageKey(a, 'splits.json'), /^scifact\/prepare\/[0-9a-f]{16}\/splits\.json$/);
    assert.notEqual(a.inputHash, stageScope('scifact', 'prepare', { seed: 14, x: 50 }, [ref('a')]).inputHash);
    assert.notEqual(a.inputHash, stageScope('scifact', 'prepare', { seed: 13, x: 50 }, [ref('b')]).inputHash);
    assert.notEqual(a.inputHash, stageScope('scifact', 'evaluate', { seed: 13, x: 50 }, [ref('a')]).inputHash);
  });

  it('storeOnce computes once and then reuses, unless reuse is off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sptar-once-'));
    try {
      const store = new LocalArtifactStore(dir);
      let calls = 0;
      const compute = async () => `value ${++calls}`;
      const first = await storeOnce(store, 'r/s/h/out', true, compute);
      const second = await storeOnce(store, 'r/s/h/out', true, compute);
      assert.deepEqual([first.reused, second.reused, calls], [false, true, 1]);
      assert.deepEqual(second.ref, first.ref);
      const third = await storeOnce(store, 'r/s/h/out', false, compute);
      assert.deepEqual([third.reused, calls, new TextDecoder().decode(await store.get(third.ref))], [false, 2, 'value 2']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
