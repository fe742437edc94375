// The S3 store against the real MinIO server.
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client } from 'minio';
import { createArtifactStore, sha256Hex } from '../../lib/artifact-store/index.ts';
import { serviceSettings } from '../support/services.ts';

describe('S3ArtifactStore on MinIO', () => {
  const settings = serviceSettings().store;
  const store = createArtifactStore(settings);
  const prefix = `test/s3-${Date.now()}`;

  /** Writes an object past the store, with the metadata given (or none). */
  async function putRaw(key: string, body: string, meta: Record<string, string>): Promise<void> {
    if (settings.kind !== 's3') throw new Error('integration tests need SPTAR_STORE=s3');
    const url = new URL(settings.endpoint);
    const s3 = new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: settings.accessKey, secretKey: settings.secretKey, pathStyle: true });
    await s3.putObject(settings.bucket, key, Buffer.from(body), Buffer.byteLength(body), meta);
  }

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

  it('verifies reads by key string against the object\'s sha256 metadata', async () => {
    const good = `${prefix}/good.jsonl`;
    await store.put(good, '{"docId":"d1"}\n');
    assert.equal(new TextDecoder().decode(await store.get(good)), '{"docId":"d1"}\n');

    const tampered = `${prefix}/tampered.jsonl`;
    await putRaw(tampered, '{"docId":"d2"}\n', { 'x-amz-meta-sha256': sha256Hex(new TextEncoder().encode('{"docId":"d1"}\n')) });
    const corrupt = (err: Error) => err.name === 'CorruptArtifactError' && err.message.includes(`${store.location}/${tampered}`) && /Delete it/.test(err.message);
    await assert.rejects(store.get(tampered), corrupt);
    const dir = await mkdtemp(join(tmpdir(), 'sptar-s3-'));
    try {
      await assert.rejects(store.getFile(tampered, join(dir, 'out')), corrupt);
      await assert.rejects(access(join(dir, 'out')), { code: 'ENOENT' }, 'a corrupt copy was left at the destination');

      const unrecorded = `${prefix}/unrecorded.jsonl`;
      await putRaw(unrecorded, 'no checksum\n', {});
      await assert.rejects(store.get(unrecorded), (err: Error) => err.name === 'CorruptArtifactError' && /records no sha256/.test(err.message));
      await assert.rejects(store.getFile(unrecorded, join(dir, 'out')), { name: 'CorruptArtifactError' });

      await store.getFile(good, join(dir, 'good'));
      assert.equal(await readFile(join(dir, 'good'), 'utf8'), '{"docId":"d1"}\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
