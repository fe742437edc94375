// The local store's write protocol, crash by crash: the files a write that stopped at each step leaves behind
// (the object `K`, its sidecar `K.sha256` listing one or two sha256 lines, temporary files under `.sptar-tmp/`), and
// what reads, stat, list and the next write make of them. Also reads by key racing with overwrites.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalArtifactStore, sha256Hex } from '../../../lib/artifact-store/index.ts';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const sha = (s: string): string => sha256Hex(new TextEncoder().encode(s));
const ref = (key: string, s: string) => ({ key, sha256: sha(s), bytes: Buffer.byteLength(s) });

/** A pid no process has any more: a child that has exited. */
const deadPid = spawnSync('true').pid!;

describe('LocalArtifactStore crash windows', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sptar-crash-'));
  after(() => rm(root, { recursive: true, force: true }));
  const store = new LocalArtifactStore(root);
  const tempDir = join(root, '.sptar-tmp');

  /** Lays out the files of key `key` as a write interrupted at some step leaves them. */
  async function layout(key: string, files: { data?: string; sidecar?: readonly string[]; temps?: Record<string, string> }): Promise<void> {
    const path = join(root, key);
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { force: true });
    await rm(`${path}.sha256`, { force: true });
    if (files.data !== undefined) await writeFile(path, files.data);
    if (files.sidecar !== undefined) await writeFile(`${path}.sha256`, files.sidecar.map((l) => `${l}\n`).join(''));
    await mkdir(tempDir, { recursive: true });
    for (const [name, body] of Object.entries(files.temps ?? {})) await writeFile(join(tempDir, name), body);
  }
  const sidecarLines = async (key: string): Promise<string[]> => (await readFile(join(root, `${key}.sha256`), 'utf8')).split('\n').filter(Boolean);

  it('crash while the new bytes are written: the old version reads, the next write removes the temporary file', async () => {
    const key = 'runs/a/last-success.json';
    const leftover = `${deadPid}.0a1b2c3d4e5f.last-success.json.sptar-tmp`;
    await layout(key, { data: 'old', sidecar: [sha('old')], temps: { [leftover]: 'ne' } });
    assert.equal(text(await store.get(key)), 'old');
    assert.deepEqual(await store.stat(key), ref(key, 'old'));
    assert.deepEqual(await store.list('runs/a/'), [key]);
    assert.deepEqual(await store.list(''), (await store.list('')).filter((k) => !k.includes('sptar-tmp')));
    assert.deepEqual(await store.put(key, 'new'), ref(key, 'new'));
    assert.deepEqual(await readdir(tempDir), []);
    assert.equal(text(await store.get(key)), 'new');
    assert.deepEqual(await sidecarLines(key), [sha('new')]);
  });

  it('crash after the sidecar lists both versions, before the rename: the old version reads and verifies', async () => {
    const key = 'runs/b/checkpoint.json';
    await layout(key, { data: 'old', sidecar: [sha('old'), sha('new')], temps: { [`${deadPid}.ffffffffffff.checkpoint.json.sptar-tmp`]: 'new' } });
    assert.equal(text(await store.get(key)), 'old');
    const out = join(root, 'out-b');
    await store.getFile(key, out);
    assert.equal(await readFile(out, 'utf8'), 'old');
    const stated = await store.stat(key);
    assert.deepEqual(stated, ref(key, 'old'));
    assert.equal(text(await store.get(stated!)), 'old');
    // The next write (of yet another version) starts from the verified old one and ends with one line.
    await store.put(key, 'third');
    assert.deepEqual(await sidecarLines(key), [sha('third')]);
    assert.equal(text(await store.get(key)), 'third');
    assert.deepEqual(await readdir(tempDir), []);
  });

  it('crash after the rename, before the sidecar lists only the new version: the new version reads and verifies', async () => {
    const key = 'runs/c/checkpoint.json';
    await layout(key, { data: 'new', sidecar: [sha('old'), sha('new')] });
    assert.equal(text(await store.get(key)), 'new');
    assert.deepEqual(await store.stat(key), ref(key, 'new'));
    // Writing the same bytes again (a retried activity) settles the sidecar on them.
    await store.put(key, 'new');
    assert.deepEqual(await sidecarLines(key), [sha('new')]);
  });

  it('crash in the first write of a key after its sidecar (or in a delete after the object): the key is absent', async () => {
    const key = 'runs/d/result.json';
    await layout(key, { sidecar: [sha('first')] });
    assert.equal(await store.stat(key), undefined);
    assert.deepEqual(await store.list('runs/d/'), []);
    await assert.rejects(store.get(key), { code: 'ENOENT' });
    assert.deepEqual(await store.put(key, 'first'), ref(key, 'first'));
    assert.equal(text(await store.get(key)), 'first');
  });

  it('an object that holds neither listed version is corrupt, and a write replaces it', async () => {
    const key = 'runs/e/part.jsonl';
    await layout(key, { data: 'torn', sidecar: [sha('old'), sha('new')] });
    await assert.rejects(store.get(key), (err: Error) => {
      assert.equal(err.name, 'CorruptArtifactError');
      for (const part of [`${store.location}/${key}`, sha('old'), sha('new'), sha('torn'), 'Delete it']) assert.ok(err.message.includes(part), `'${part}' missing: ${err.message}`);
      return true;
    });
    const stated = await store.stat(key);
    assert.ok(stated);
    await assert.rejects(store.get(stated), { name: 'CorruptArtifactError' });
    await store.put(key, 'fresh');
    assert.equal(text(await store.get(key)), 'fresh');
    assert.deepEqual(await sidecarLines(key), [sha('fresh')]);
  });

  it('removes leftovers of dead processes and stale ones on delete, but not a live writer\'s recent temporary file', async () => {
    const key = 'runs/f/x.bin';
    const dead = `${deadPid}.000000000001.x.bin.sptar-tmp`;
    const deadSidecar = `${deadPid}.000000000002.x.bin.sptar-tmp`;
    const liveRecent = `${process.ppid}.000000000003.x.bin.sptar-tmp`;
    const liveStale = `${process.ppid}.000000000004.x.bin.sptar-tmp`;
    await layout(key, { data: 'v', sidecar: [sha('v')], temps: { [dead]: 'partial', [deadSidecar]: `${sha('v')}\n`, [liveRecent]: 'writing', [liveStale]: 'abandoned' } });
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    await utimes(join(tempDir, liveStale), twoDaysAgo, twoDaysAgo);
    // A legacy leftover of the earlier store (`K.<pid>.<ms>.tmp` beside the object) is not a key either.
    await writeFile(join(root, `${key}.${deadPid}.1700000000000.tmp`), 'partial');
    assert.deepEqual(await store.list('runs/f/'), [key]);
    await store.delete(key);
    assert.deepEqual(await readdir(tempDir), [liveRecent]);
    assert.deepEqual(await readdir(join(root, 'runs/f')), []);
    assert.equal(await store.stat(key), undefined);
    await rm(join(tempDir, liveRecent));
  });

  it('reads by key during overwrites always verify', async () => {
    const key = 'runs/g/last-success.json';
    const versions = Array.from({ length: 8 }, (_, i) => `version ${i} `.repeat(1 + 50 * i));
    await store.put(key, versions[0]!);
    let writing = true;
    const writer = (async () => {
      for (let round = 0; round < 25; round++) for (const v of versions) await store.put(key, v);
      writing = false;
    })();
    const reads = Array.from({ length: 4 }, async (_, r) => {
      let n = 0;
      while (writing) {
        const got = r % 2 === 0 ? text(await store.get(key)) : await (async () => {
          const out = join(root, `out-g-${r}`);
          await store.getFile(key, out);
          return readFile(out, 'utf8');
        })();
        assert.ok(versions.includes(got), 'a read returned bytes no write stored');
        n++;
      }
      return n;
    });
    await writer;
    const counts = await Promise.all(reads);
    assert.ok(counts.every((n) => n > 0), `reads per reader: ${counts.join(', ')}`);
    assert.equal(text(await store.get(key)), versions.at(-1));
    assert.deepEqual(await sidecarLines(key), [sha(versions.at(-1)!)]);
  });

  it('serializes concurrent writes of one key within a process', async () => {
    const key = 'runs/h/value.json';
    const values = Array.from({ length: 20 }, (_, i) => `value ${i}`);
    await Promise.all(values.map((v) => store.put(key, v)));
    assert.equal(text(await store.get(key)), values.at(-1));
    assert.deepEqual(await sidecarLines(key), [sha(values.at(-1)!)]);
    assert.deepEqual(await readdir(tempDir), []);
    assert.ok((await stat(join(root, key))).isFile());
  });
});
