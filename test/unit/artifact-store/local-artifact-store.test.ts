import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';

describe('LocalArtifactStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sptar-store-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const store = new LocalArtifactStore(dir);

  it('round-trips bytes with the sha256 of "abc"', async () => {
    const ref = await store.put('runs/r1/prepare/abc.txt', 'abc');
    assert.deepEqual(ref, {
      key: 'runs/r1/prepare/abc.txt',
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      bytes: 3,
    });
    assert.deepEqual(await store.stat('runs/r1/prepare/abc.txt'), ref);
    assert.equal(new TextDecoder().decode(await store.get(ref)), 'abc');
    assert.equal(await store.stat('runs/r1/missing'), undefined);
  });

  it('lists keys under a prefix, sorted, without sidecars', async () => {
    await store.put('runs/r2/b', 'b');
    await store.put('runs/r2/a', 'a');
    assert.deepEqual(await store.list('runs/r2/'), ['runs/r2/a', 'runs/r2/b']);
  });

  it('detects a corrupted object as CorruptArtifactError', async () => {
    const ref = await store.put('runs/r3/data', 'good bytes');
    await writeFile(join(dir, 'runs/r3/data'), 'bad bytes!');
    await assert.rejects(store.get(ref), (err: Error) => err.name === 'CorruptArtifactError' && /runs\/r3\/data is corrupt/.test(err.message));
  });

  it('streams files in and out, verifying the checksum on the way out', async () => {
    const src = join(dir, 'in.bin');
    await writeFile(src, 'file body');
    const ref = await store.putFile('runs/r4/file.bin', src);
    assert.deepEqual(ref, { key: 'runs/r4/file.bin', sha256: '15e470ec647ae0e6734ec2a397d8be444063aebab70fb6775c1a1e5f042b0ae6', bytes: 9 });
    await store.getFile(ref, join(dir, 'out.bin'));
    assert.equal(await readFile(join(dir, 'out.bin'), 'utf8'), 'file body');
    await writeFile(join(dir, 'runs/r4/file.bin'), 'file b0dy');
    await assert.rejects(store.getFile(ref, join(dir, 'out2.bin')), { name: 'CorruptArtifactError' });
  });

  it('rejects keys that escape the store', async () => {
    await assert.rejects(store.put('../outside', 'x'), /invalid artifact key/);
    await assert.rejects(store.put('a//b', 'x'), /invalid artifact key/);
  });

  it('keeps the names of its own files out of the key space', async () => {
    await assert.rejects(store.put('runs/r5/data.sha256', 'x'), /reserved/);
    await assert.rejects(store.put('.sptar-tmp/x', 'x'), /reserved/);
  });

  it('leaves one sidecar line and no temporary file after a write and an overwrite', async () => {
    await store.put('runs/r6/value.json', '{"v":1}');
    const ref = await store.put('runs/r6/value.json', '{"v":2}');
    assert.equal(await readFile(join(dir, 'runs/r6/value.json.sha256'), 'utf8'), `${ref.sha256}\n`);
    assert.deepEqual(await readdir(join(dir, '.sptar-tmp')), []);
    assert.deepEqual((await readdir(join(dir, 'runs/r6'))).sort(), ['value.json', 'value.json.sha256']);
  });

  it('verifies reads by key string against the sidecar: a corrupted object is a CorruptArtifactError', async () => {
    const key = 'runs/r7/shard-000000.part-000000000.jsonl';
    await store.put(key, '{"docId":"d1"}\n');
    assert.equal(new TextDecoder().decode(await store.get(key)), '{"docId":"d1"}\n');
    await writeFile(join(dir, key), '{"docId":"d2"}\n');
    const corrupt = (err: Error) => {
      assert.equal(err.name, 'CorruptArtifactError');
      for (const part of [`${store.location}/${key}`, 'sidecar', 'Delete it so the stage that writes it runs again']) assert.ok(err.message.includes(part), `'${part}' missing: ${err.message}`);
      return true;
    };
    await assert.rejects(store.get(key), corrupt);
    const out = join(dir, 'out-r7');
    await assert.rejects(store.getFile(key, out), corrupt);
    await assert.rejects(access(out), { code: 'ENOENT' }, 'a corrupt copy was left at the destination');
  });

  it('refuses to read by key an object without a recorded checksum', async () => {
    const key = 'runs/r8/checkpoint.ckpt';
    await store.put(key, 'weights');
    await rm(join(dir, `${key}.sha256`));
    await assert.rejects(store.get(key), (err: Error) => err.name === 'CorruptArtifactError' && err.message.includes(`${store.location}/${key}`) && /records no sha256/.test(err.message));
    await assert.rejects(store.getFile(key, join(dir, 'out-r8')), { name: 'CorruptArtifactError' });
    assert.equal(await store.stat(key), undefined);
    await writeFile(join(dir, `${key}.sha256`), 'not a checksum\n');
    await assert.rejects(store.get(key), /records no sha256/);
  });

  it('streams a file out by key string after verifying it', async () => {
    await store.put('runs/r9/file.txt', 'body');
    await store.getFile('runs/r9/file.txt', join(dir, 'out-r9'));
    assert.equal(await readFile(join(dir, 'out-r9'), 'utf8'), 'body');
  });
});
