// The workers' own MinIO user, which infra/services.sh creates: it may use the artifact bucket, and nothing else.
// The test MinIO's root account (exported by infra/run-tests.sh for the services script) only sets up and removes
// the other bucket here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'minio';
import { createArtifactStore, sha256Hex } from '../../lib/artifact-store/index.ts';
import type { S3Settings } from '../../lib/artifact-store/s3-artifact-store.ts';
import { repoRoot, serviceSettings } from '../support/services.ts';

const store = serviceSettings().store;
if (store.kind !== 's3') throw new Error('integration tests need SPTAR_STORE=s3');
const s3: S3Settings = store;

function client(accessKey: string, secretKey: string): Client {
  const url = new URL(s3.endpoint);
  return new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey, secretKey, region: s3.region, pathStyle: true });
}

const denied = (err: Error & { code?: string }) => err.code === 'AccessDenied';

describe("the workers' MinIO user", () => {
  const rootUser = process.env['SPTAR_S3_ROOT_USER'];
  const rootPassword = process.env['SPTAR_S3_ROOT_PASSWORD'];
  if (!rootUser || !rootPassword) throw new Error('SPTAR_S3_ROOT_USER / SPTAR_S3_ROOT_PASSWORD are not set: run through infra/run-tests.sh');
  const root = client(rootUser, rootPassword);
  const worker = client(s3.accessKey, s3.secretKey);
  const otherBucket = `sptar-other-${Date.now()}`;
  const prefix = `test/worker-user-${Date.now()}`;

  before(async () => {
    await root.makeBucket(otherBucket, s3.region);
    await root.putObject(otherBucket, 'root-only.txt', Buffer.from('not for workers'));
  });
  after(async () => {
    await root.removeObject(otherBucket, 'root-only.txt').catch(() => undefined);
    await root.removeObject(otherBucket, 'from-worker.txt').catch(() => undefined);
    await root.removeBucket(otherBucket).catch(() => undefined);
  });

  it('is not the root account', () => {
    assert.notEqual(s3.accessKey, rootUser);
  });

  it('reads, writes, lists and deletes in the artifact bucket, a multipart upload included', async () => {
    const artifacts = createArtifactStore(store);
    const ref = await artifacts.put(`${prefix}/small.txt`, 'abc');
    assert.deepEqual(await artifacts.stat(`${prefix}/small.txt`), ref);
    assert.equal(new TextDecoder().decode(await artifacts.get(ref)), 'abc');
    // Above 64 MiB the minio client uploads in parts and first looks for an interrupted upload of the key, which
    // needs s3:ListBucketMultipartUploads; model weights and checkpoints are that large.
    const dir = await mkdtemp(join(tmpdir(), 'sptar-worker-user-'));
    try {
      const big = Buffer.alloc(65 * 1024 * 1024 + 17, 7);
      await writeFile(join(dir, 'big.bin'), big);
      const bigRef = await artifacts.putFile(`${prefix}/big.bin`, join(dir, 'big.bin'));
      assert.deepEqual(bigRef, { key: `${prefix}/big.bin`, sha256: sha256Hex(big), bytes: big.byteLength });
      await artifacts.getFile(bigRef, join(dir, 'back.bin'));
      assert.deepEqual(await artifacts.list(`${prefix}/`), [`${prefix}/big.bin`, `${prefix}/small.txt`]);
      await artifacts.delete(`${prefix}/big.bin`);
      await artifacts.delete(`${prefix}/small.txt`);
      assert.deepEqual(await artifacts.list(`${prefix}/`), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is refused on any other bucket: read, write, list, delete, create', async () => {
    await assert.rejects(worker.bucketExists(otherBucket), denied);
    await assert.rejects(worker.statObject(otherBucket, 'root-only.txt'), denied);
    await assert.rejects(worker.getObject(otherBucket, 'root-only.txt'), denied);
    await assert.rejects(worker.putObject(otherBucket, 'from-worker.txt', Buffer.from('x')), denied);
    await assert.rejects(worker.removeObject(otherBucket, 'root-only.txt'), denied);
    await assert.rejects(
      (async () => {
        for await (const item of worker.listObjectsV2(otherBucket, '', true)) void item;
      })(),
      denied,
    );
    await assert.rejects(worker.makeBucket(`sptar-new-${Date.now()}`, s3.region), denied);
    // The store itself, pointed at the other bucket, is refused too.
    await assert.rejects(createArtifactStore({ ...s3, kind: 's3', bucket: otherBucket }).put(`${prefix}/x.txt`, 'x'), denied);
    // Bucket listings show it only the artifact bucket, and the root's object is untouched.
    assert.deepEqual((await worker.listBuckets()).map((b) => b.name), [s3.bucket]);
    assert.equal((await root.statObject(otherBucket, 'root-only.txt')).size, 'not for workers'.length);
  });

  it('is set up again, unchanged, when the services script starts MinIO once more', async () => {
    const r = spawnSync('bash', ['infra/services.sh', 'start', 'objectstore'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /MinIO already running/);
    assert.match(r.stderr, new RegExp(`MinIO user ${s3.accessKey}: policy sptar-worker-${s3.bucket} \\(bucket ${s3.bucket} only; unchanged\\)`));
    await assert.rejects(worker.bucketExists(otherBucket), denied);
    assert.equal(await worker.bucketExists(s3.bucket), true);
  });
});
