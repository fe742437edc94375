// The S3 store against the real MinIO server.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { serviceSettings } from '../support/services.ts';

describe('S3ArtifactStore on MinIO', () => {
  const store = createArtifactStore(serviceSettings().store);
  const prefix = `test/s3-${Date.now()}`;

  it('puts, stats, lists, gets and deletes', async () => {
    const ref = await store.put(`${prefix}/b.txt`, 'abc');
    assert.equal(ref.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    await store.put(`${prefix}/a.txt`, 'x');
    assert.deepEqual(await store.stat(`${prefix}/b.txt`), ref);
    assert.deepEqual(await store.list(`${prefix}/`), [`${prefix}/a.txt`, `${prefix}/b.txt`]);
    assert.equal(new TextDecoder().decode(await store.get(ref)), 'abc');
    await store.delete(`${prefix}/a.txt`);
    assert.equal(await store.stat(`${prefix}/a.txt`), undefined);
  });

  it('detects an object whose bytes no longer match its ref', async () => {
    const ref = await store.put(`${prefix}/c.txt`, 'original');
    await store.put(`${prefix}/c.txt`, 'replaced');
    await assert.rejects(store.get(ref), { name: 'CorruptArtifactError' });
  });

  it('streams files in and out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sptar-s3-'));
    try {
      await writeFile(join(dir, 'in'), 'file body');
      const ref = await store.putFile(`${prefix}/file.bin`, join(dir, 'in'));
      assert.deepEqual(ref, { key: `${prefix}/file.bin`, sha256: '15e470ec647ae0e6734ec2a397d8be444063aebab70fb6775c1a1e5f042b0ae6', bytes: 9 });
      assert.deepEqual(await store.stat(`${prefix}/file.bin`), ref);
      await store.getFile(ref, join(dir, 'out'));
      assert.equal(await readFile(join(dir, 'out'), 'utf8'), 'file body');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
