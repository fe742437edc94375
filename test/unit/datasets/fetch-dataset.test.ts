// Fetching a dataset by name from a loopback server: the archive is checked against its pin before it is opened,
// unpacked beside the target and renamed into place only when complete; every failure leaves nothing behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { DATASET_MARKER_FILE, DatasetError, datasetMarkerSchema, ensureDataset, type DatasetEntry, type DownloadProgress } from '../../../lib/datasets/index.ts';
import { refusedPort, startArchiveServer, type ArchiveServer } from './archive-server.ts';
import { buildZip } from './zip-fixture.ts';
import { TINY, TINY_ARCHIVE, TINY_FILES, TINY_PIN, tinyEntries } from './tiny-dataset.ts';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const crcHex = (text: string) => (crc32(Buffer.from(text)) >>> 0).toString(16).padStart(8, '0');
const HINT = (url: string, target: string) =>
  `To set up tiny by hand, download ${url} (905 bytes, sha256 ${TINY_PIN.sha256}), unzip it and move its folder tiny/ (corpus.jsonl, queries.jsonl, qrels/test.tsv) to ${target}`;

/** The same archive with one byte of corpus.jsonl changed: same size, valid zip, another sha256. */
const FLIPPED = Buffer.from(TINY_ARCHIVE);
FLIPPED[FLIPPED.indexOf('Soft prompts')] = 'Z'.charCodeAt(0);
/** queries.jsonl recorded with a wrong CRC-32: the archive verifies against its own pin but fails mid-unpack. */
const DAMAGED = buildZip(tinyEntries({ 'queries.jsonl': { crc: 0x12345678 } }));

const withFile = (file: string, pin = TINY.archive.pin): DatasetEntry => ({ ...TINY, archive: { file, pin } });

async function rejection(promise: Promise<unknown>): Promise<DatasetError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DatasetError, `expected a DatasetError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the fetch to fail');
}

describe('ensureDataset against a loopback server', () => {
  let server: ArchiveServer;
  let root: string;
  before(async () => {
    server = await startArchiveServer(
      new Map([
        ['tiny.zip', TINY_ARCHIVE],
        ['tiny-flipped.zip', FLIPPED],
        ['tiny-damaged.zip', DAMAGED],
      ]),
    );
    root = await mkdtemp(join(tmpdir(), 'sptar-fetch-'));
  });
  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });
  const freshDir = async (name: string) => {
    const dir = join(root, name);
    await mkdir(dir);
    return dir;
  };

  it('downloads, verifies, unpacks the folder and writes the marker; a second call makes no request', async () => {
    const data = await freshDir('ok');
    const target = join(data, 'tiny');
    const progress: DownloadProgress[] = [];
    const starts: [string, number][] = [];
    const first = server.requests.length;
    const result = await ensureDataset(TINY, target, {
      baseUrl: server.baseUrl('ok'),
      onDownloadStart: (url, bytes) => starts.push([url, bytes]),
      onProgress: (p) => progress.push(p),
    });
    assert.equal(result.status, 'fetched');
    assert.equal(result.dir, target);
    assert.deepEqual(server.requests.slice(first), ['/ok/tiny.zip']);
    assert.deepEqual(starts, [[`${server.baseUrl('ok')}/tiny.zip`, 905]]);
    assert.deepEqual(progress.at(-1), { receivedBytes: 905, totalBytes: 905 });
    for (const [path, text] of Object.entries(TINY_FILES)) assert.equal(await readFile(join(target, path), 'utf8'), text);
    // Only the dataset folder: no __MACOSX, no temporary download or partial folder beside it.
    assert.deepEqual(await readdir(data), ['tiny']);
    assert.deepEqual((await readdir(target)).sort(), [DATASET_MARKER_FILE, 'corpus.jsonl', 'qrels', 'queries.jsonl']);
    const marker = datasetMarkerSchema.parse(JSON.parse(await readFile(join(target, DATASET_MARKER_FILE), 'utf8')));
    assert.deepEqual({ ...marker, unpackedAt: '' }, {
      format: 1,
      name: 'tiny',
      archive: { source: `${server.baseUrl('ok')}/tiny.zip`, bytes: 905, sha256: TINY_PIN.sha256, md5: TINY_PIN.md5, pinSource: 'registry' },
      files: [
        { path: 'corpus.jsonl', bytes: 133, sha256: sha256(TINY_FILES['corpus.jsonl']) },
        { path: 'qrels/test.tsv', bytes: 33, sha256: sha256(TINY_FILES['qrels/test.tsv']) },
        { path: 'queries.jsonl', bytes: 52, sha256: sha256(TINY_FILES['queries.jsonl']) },
      ],
      unpackedAt: '',
    });
    assert.deepEqual(result.marker, marker);

    const again = await ensureDataset(TINY, target, { baseUrl: server.baseUrl('ok') });
    assert.equal(again.status, 'present');
    assert.deepEqual(again.marker, marker);
    assert.equal(server.requests.length, first + 1, 'a verified folder is used without a request');
  });

  it('a download cut off after its Content-Length was announced fails, and leaves no file or folder', async () => {
    const data = await freshDir('truncated');
    const target = join(data, 'tiny');
    const url = `${server.baseUrl('truncated')}/tiny.zip`;
    const err = await rejection(ensureDataset(TINY, target, { baseUrl: server.baseUrl('truncated') }));
    assert.equal(err.kind, 'download');
    assert.equal(err.message, `download of ${url} stopped after 452 of 905 bytes: terminated: other side closed; nothing was unpacked.\n${HINT(url, target)}`);
    assert.deepEqual(await readdir(data), []);
  });

  it('a short download that ended cleanly fails on its size, before anything is unpacked', async () => {
    const data = await freshDir('short');
    const target = join(data, 'tiny');
    const url = `${server.baseUrl('short')}/tiny.zip`;
    const err = await rejection(ensureDataset(TINY, target, { baseUrl: server.baseUrl('short') }));
    assert.equal(err.kind, 'verify');
    assert.equal(
      err.message,
      `the archive downloaded from ${url} is 452 bytes, not the pinned 905: the download was cut short or the file is incomplete; nothing was unpacked.\n${HINT(url, target)}`,
    );
    assert.deepEqual(await readdir(data), []);
  });

  it('an archive of the right size with another sha256 is refused and removed', async () => {
    const data = await freshDir('sha');
    const target = join(data, 'tiny');
    const entry = withFile('tiny-flipped.zip');
    const url = `${server.baseUrl('ok')}/tiny-flipped.zip`;
    const err = await rejection(ensureDataset(entry, target, { baseUrl: server.baseUrl('ok') }));
    assert.equal(err.kind, 'verify');
    assert.equal(
      err.message,
      `the archive downloaded from ${url} has sha256 ${sha256(FLIPPED)}, not the pinned ${TINY_PIN.sha256}: it is not the expected archive; nothing was unpacked.\n` +
        `To set up tiny by hand, download ${url} (905 bytes, sha256 ${TINY_PIN.sha256}), unzip it and move its folder tiny/ (corpus.jsonl, queries.jsonl, qrels/test.tsv) to ${target}`,
    );
    assert.deepEqual(await readdir(data), []);
  });

  it("checks BEIR's MD5 after the sha256", async () => {
    const data = await freshDir('md5');
    const target = join(data, 'tiny');
    const entry = withFile('tiny.zip', { ...TINY_PIN, md5: 'f'.repeat(32) });
    const err = await rejection(ensureDataset(entry, target, { baseUrl: server.baseUrl('ok') }));
    assert.equal(err.kind, 'verify');
    assert.match(err.message, new RegExp(`^the archive downloaded from \\S+ has MD5 ${TINY_PIN.md5}, not BEIR's published f{32}; nothing was unpacked\\.\n`));
    assert.deepEqual(await readdir(data), []);
  });

  it('stops at a Content-Length other than the pinned size, and at a 404', async () => {
    const data = await freshDir('length');
    const target = join(data, 'tiny');
    const url = `${server.baseUrl('ok')}/tiny.zip`;
    const entry = withFile('tiny.zip', { ...TINY_PIN, bytes: 904 });
    const err = await rejection(ensureDataset(entry, target, { baseUrl: server.baseUrl('ok') }));
    assert.equal(err.kind, 'download');
    assert.equal(err.message.split('\n')[0], `${url} is 905 bytes by its Content-Length, not the pinned 904: not the expected archive; nothing was unpacked.`);
    const missing = await rejection(ensureDataset(TINY, target, { baseUrl: server.baseUrl('missing') }));
    assert.equal(missing.message.split('\n')[0], `cannot download ${server.baseUrl('missing')}/tiny.zip: the server answered 404 Not Found; nothing was unpacked.`);
    assert.deepEqual(await readdir(data), []);
  });

  it('gives up on a server that goes quiet', async () => {
    const data = await freshDir('stall');
    const err = await rejection(ensureDataset(TINY, join(data, 'tiny'), { baseUrl: server.baseUrl('stall'), stallTimeoutMs: 200 }));
    assert.equal(err.kind, 'download');
    assert.equal(err.message.split('\n')[0], `cannot download ${server.baseUrl('stall')}/tiny.zip: no data for 0.2 s; nothing was unpacked.`);
    assert.deepEqual(await readdir(data), []);
  });

  it('an unpack that fails midway leaves no folder that looks ready; a later fetch succeeds', async () => {
    const data = await freshDir('unpack');
    const target = join(data, 'tiny');
    const damaged = withFile('tiny-damaged.zip', { bytes: DAMAGED.length, sha256: sha256(DAMAGED), md5: md5(DAMAGED) });
    const url = `${server.baseUrl('ok')}/tiny-damaged.zip`;
    const err = await rejection(ensureDataset(damaged, target, { baseUrl: server.baseUrl('ok') }));
    assert.equal(err.kind, 'unpack');
    assert.equal(
      err.message,
      `${url}: entry 'tiny/queries.jsonl' unpacks to 52 bytes with CRC-32 ${crcHex(TINY_FILES['queries.jsonl'])}, ` +
        `the archive records 52 bytes with CRC-32 12345678: the archive is damaged; ${target} was not created`,
    );
    assert.deepEqual(await readdir(data), [], 'neither the partial folder nor the download is left');

    const later = await ensureDataset(TINY, target, { baseUrl: server.baseUrl('ok') });
    assert.equal(later.status, 'fetched');
    assert.equal(await readFile(join(target, 'queries.jsonl'), 'utf8'), TINY_FILES['queries.jsonl']);
  });

  it('without a network: one message naming the URL, size, sha256 and target folder', async () => {
    const port = await refusedPort();
    const data = await freshDir('refused');
    const target = join(data, 'tiny');
    const url = `http://127.0.0.1:${port}/tiny.zip`;
    const err = await rejection(ensureDataset(TINY, target, { baseUrl: `http://127.0.0.1:${port}` }));
    assert.equal(err.kind, 'download');
    assert.equal(
      err.message,
      `cannot download ${url}: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}; nothing was unpacked.\n` +
        `To set up tiny by hand, download ${url} (905 bytes, sha256 f7dd53f7c3b011a313e8cb987bddab48d4a94da66a1400d009f16307b56d3034), ` +
        `unzip it and move its folder tiny/ (corpus.jsonl, queries.jsonl, qrels/test.tsv) to ${target}`,
    );
    assert.deepEqual(await readdir(data), []);
  });

  it('checks and unpacks an archive downloaded by hand, without a request', async () => {
    const data = await freshDir('local');
    const archive = join(root, 'tiny-by-hand.zip');
    await writeFile(archive, TINY_ARCHIVE);
    const before = server.requests.length;
    const result = await ensureDataset(TINY, join(data, 'tiny'), { baseUrl: server.baseUrl('ok'), archivePath: archive });
    assert.equal(result.status, 'fetched');
    assert.equal(result.marker.archive.source, archive);
    assert.equal(server.requests.length, before);
    assert.equal(await readFile(join(data, 'tiny', 'corpus.jsonl'), 'utf8'), TINY_FILES['corpus.jsonl']);

    await writeFile(archive, FLIPPED);
    const err = await rejection(ensureDataset(TINY, join(data, 'other', 'tiny'), { archivePath: archive }));
    assert.equal(err.message, `${archive} has sha256 ${sha256(FLIPPED)}, not the pinned ${TINY_PIN.sha256}: it is not the expected archive`);
  });

  it('never replaces a folder it did not make, and refuses a fetched copy whose file changed size', async () => {
    const data = await freshDir('existing');
    const own = join(data, 'tiny');
    await mkdir(own);
    await writeFile(join(own, 'corpus.jsonl'), 'mine\n');
    const before = server.requests.length;
    const err = await rejection(ensureDataset(TINY, own, { baseUrl: server.baseUrl('ok') }));
    assert.equal(err.kind, 'folder');
    assert.equal(
      err.message,
      `${own} is not a verified copy of tiny: it has no ${DATASET_MARKER_FILE}, so no fetch made it. Remove it to fetch tiny again, or point dataset.path at another folder`,
    );
    assert.equal(await readFile(join(own, 'corpus.jsonl'), 'utf8'), 'mine\n');

    const fetched = join(data, 'fetched', 'tiny');
    await ensureDataset(TINY, fetched, { baseUrl: server.baseUrl('ok') });
    await truncate(join(fetched, 'corpus.jsonl'), 10);
    const damaged = await rejection(ensureDataset(TINY, fetched, { baseUrl: server.baseUrl('ok') }));
    assert.equal(
      damaged.message,
      `${fetched} is not a verified copy of tiny: ${join(fetched, 'corpus.jsonl')} is 10 bytes, 133 when unpacked. Remove it to fetch tiny again, or point dataset.path at another folder`,
    );
    const otherPin = await rejection(ensureDataset(TINY, fetched, { pin: { pin: { ...TINY_PIN, sha256: 'a'.repeat(64) }, source: 'test' } }));
    assert.equal(
      otherPin.message,
      `${fetched} is not a verified copy of tiny: it was unpacked from an archive with sha256 ${TINY_PIN.sha256}, not the pinned ${'a'.repeat(64)}. Remove it to fetch tiny again, or point dataset.path at another folder`,
    );
    assert.equal(server.requests.length, before + 1, 'only the one fetch downloaded');
  });

  it('fills an empty folder at the target', async () => {
    const data = await freshDir('empty');
    await mkdir(join(data, 'tiny'));
    const result = await ensureDataset(TINY, join(data, 'tiny'), { baseUrl: server.baseUrl('ok') });
    assert.equal(result.status, 'fetched');
    assert.deepEqual(await readdir(data), ['tiny']);
  });
});
