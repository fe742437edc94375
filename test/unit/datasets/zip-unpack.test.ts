// Unpacking one folder of a zip: deflated and stored entries come out byte for byte; names that could write outside
// the destination, links, duplicates and damaged data are refused with the archive and entry named.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatasetError } from '../../../lib/datasets/index.ts';
import { unpackZipFolder } from '../../../lib/datasets/zip-unpack.ts';
import { buildZip, type ZipEntrySpec } from './zip-fixture.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('unpackZipFolder', () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sptar-unzip-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Writes the archive, unpacks folder `ds` into an empty `out/` and returns the result or the error. */
  async function unpack(entries: readonly ZipEntrySpec[]) {
    const dir = join(root, `case-${n++}`);
    const out = join(dir, 'out');
    await mkdir(out, { recursive: true });
    const zip = join(dir, 'a.zip');
    await writeFile(zip, buildZip(entries));
    try {
      return { dir, out, zip, files: await unpackZipFolder(zip, 'ds', out, 'a.zip'), error: undefined };
    } catch (err) {
      assert.ok(err instanceof DatasetError);
      assert.equal(err.kind, 'unpack');
      return { dir, out, zip, files: undefined, error: err.message };
    }
  }

  it('writes the files below the folder, stored and deflated, and skips everything else', async () => {
    const corpus = '{"_id": "d1", "text": "x"}\n'.repeat(200);
    const r = await unpack([
      { name: 'ds/corpus.jsonl', data: corpus, method: 'deflate' },
      { name: 'ds/qrels/test.tsv', data: 'q\td\t1\n' },
      { name: 'ds/qrels/' },
      { name: 'other/corpus.jsonl', data: 'not this' },
      { name: 'ds-not/x', data: 'nor this' },
      { name: 'ds/' },
    ]);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.files, [
      { path: 'corpus.jsonl', bytes: corpus.length, sha256: sha256(corpus) },
      { path: 'qrels/test.tsv', bytes: 6, sha256: sha256('q\td\t1\n') },
    ]);
    assert.equal(await readFile(join(r.out, 'corpus.jsonl'), 'utf8'), corpus);
    assert.deepEqual((await readdir(r.out)).sort(), ['corpus.jsonl', 'qrels']);
  });

  it('refuses names that climb out of the destination or are absolute (yauzl) and . segments (ours)', async () => {
    const climb = await unpack([{ name: 'ds/../../evil.txt', data: 'x' }]);
    assert.equal(climb.error, 'cannot unpack a.zip: invalid relative path: ds/../../evil.txt');
    const absolute = await unpack([{ name: '/ds/evil.txt', data: 'x' }]);
    assert.equal(absolute.error, 'cannot unpack a.zip: absolute path: /ds/evil.txt');
    const backslash = await unpack([{ name: 'ds\\..\\evil.txt', data: 'x' }]);
    assert.equal(backslash.error, 'cannot unpack a.zip: invalid characters in fileName: ds\\..\\evil.txt');
    const dot = await unpack([{ name: 'ds/./corpus.jsonl', data: 'x' }]);
    assert.equal(dot.error, "a.zip: entry 'ds/./corpus.jsonl' has an unsafe path; nothing of it was written");
    const empty = await unpack([{ name: 'ds//corpus.jsonl', data: 'x' }]);
    assert.equal(empty.error, "a.zip: entry 'ds//corpus.jsonl' has an unsafe path; nothing of it was written");
    for (const r of [climb, absolute, backslash, dot, empty]) {
      assert.deepEqual(await readdir(r.out), []);
      assert.deepEqual((await readdir(r.dir)).sort(), ['a.zip', 'out']);
    }
  });

  it('refuses symbolic links and duplicate entries', async () => {
    const link = await unpack([{ name: 'ds/corpus.jsonl', data: '/etc/passwd', mode: 0o120777 }]);
    assert.equal(link.error, "a.zip: entry 'ds/corpus.jsonl' is a symbolic link; only regular files are unpacked");
    const twice = await unpack([
      { name: 'ds/corpus.jsonl', data: 'first' },
      { name: 'ds/corpus.jsonl', data: 'second' },
    ]);
    assert.match(twice.error ?? '', /^cannot unpack entry 'ds\/corpus\.jsonl' of a\.zip: EEXIST: file already exists, open '.*corpus\.jsonl'$/);
    assert.equal(await readFile(join(twice.out, 'corpus.jsonl'), 'utf8'), 'first');
  });

  it('refuses damaged data: a wrong CRC-32, deflate data that does not inflate, a file that is no zip', async () => {
    const crc = await unpack([{ name: 'ds/a.txt', data: 'hello', crc: 1 }]);
    assert.equal(crc.error, "a.zip: entry 'ds/a.txt' unpacks to 5 bytes with CRC-32 3610a686, the archive records 5 bytes with CRC-32 00000001: the archive is damaged");

    const dir = join(root, 'raw');
    await mkdir(join(dir, 'out'), { recursive: true });
    const zip = buildZip([{ name: 'ds/a.txt', data: 'hello hello hello hello', method: 'deflate' }]);
    zip.fill(0xff, 30 + 'ds/a.txt'.length, 30 + 'ds/a.txt'.length + 4); // the start of the deflate stream
    await writeFile(join(dir, 'bad.zip'), zip);
    await assert.rejects(unpackZipFolder(join(dir, 'bad.zip'), 'ds', join(dir, 'out'), 'bad.zip'), {
      name: 'DatasetError',
      message: "cannot unpack entry 'ds/a.txt' of bad.zip: invalid block type",
    });

    await writeFile(join(dir, 'not.zip'), 'PK but not really');
    await assert.rejects(unpackZipFolder(join(dir, 'not.zip'), 'ds', join(dir, 'out'), 'not.zip'), {
      name: 'DatasetError',
      message: 'not.zip is not a readable zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.',
    });
  });
});
