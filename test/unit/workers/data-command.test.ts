// `sptar data ...` and the dataset step of `sptar start`, end to end against a loopback server: the registry's
// scifact entry, served a small archive in SciFact's layout whose pin is given through SPTAR_DATASET_PIN.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDatasetSettings, prepareConfiguredDataset, runDataCommand, type Output } from '../../../workers/data-command.ts';
import { refusedPort, startArchiveServer, type ArchiveServer } from '../datasets/archive-server.ts';
import { buildZip } from '../datasets/zip-fixture.ts';

const SCIFACT_LIKE = buildZip([
  { name: 'scifact/' },
  { name: 'scifact/corpus.jsonl', data: '{"_id": "4983", "title": "t", "text": "x"}\n' },
  { name: 'scifact/queries.jsonl', data: '{"_id": "1", "text": "q"}\n' },
  { name: 'scifact/qrels/test.tsv', data: 'query-id\tcorpus-id\tscore\n1\t4983\t1\n' },
  { name: 'scifact/qrels/train.tsv', data: 'query-id\tcorpus-id\tscore\n' },
]);
const BYTES = SCIFACT_LIKE.length;
const SHA = createHash('sha256').update(SCIFACT_LIKE).digest('hex');
const REAL_SHA = '536e14446a0ba56ed1398ab1055f39fe852686ecad24a6306c80c490fa8e0165';

function capture(isTTY = false): Output & { text: () => string } {
  const parts: string[] = [];
  return { write: (t) => void parts.push(t), isTTY, text: () => parts.join('') };
}

describe('sptar data and the dataset step of start', () => {
  let server: ArchiveServer;
  let root: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    server = await startArchiveServer(new Map([['scifact.zip', SCIFACT_LIKE]]));
    root = await mkdtemp(join(tmpdir(), 'sptar-data-cmd-'));
    env = { SPTAR_DATASET_BASE_URL: server.baseUrl('ok'), SPTAR_DATASET_PIN: `scifact:${BYTES}:${SHA}` };
  });
  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reads the base URL and the pin override from the environment, and refuses malformed ones', () => {
    assert.deepEqual(loadDatasetSettings({}), { baseUrl: 'https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets' });
    assert.deepEqual(loadDatasetSettings(env), { baseUrl: server.baseUrl('ok'), pinOverride: { name: 'scifact', bytes: BYTES, sha256: SHA } });
    assert.throws(() => loadDatasetSettings({ SPTAR_DATASET_PIN: `scifact:${SHA}` }), {
      message: 'invalid dataset settings: SPTAR_DATASET_PIN: expected NAME:BYTES:SHA256 (sha256 in lowercase hex)',
    });
    assert.throws(() => loadDatasetSettings({ SPTAR_DATASET_PIN: `nfcorpus:1:${SHA}` }), {
      message: "SPTAR_DATASET_PIN names 'nfcorpus', which is not a known dataset (scifact)",
    });
    assert.throws(() => loadDatasetSettings({ SPTAR_DATASET_BASE_URL: 'not a url' }), { message: /^invalid dataset settings: SPTAR_DATASET_BASE_URL: / });
  });

  it('data fetch downloads, verifies and unpacks into DIR/<name>, and a second fetch only reports the verified copy', async () => {
    const dir = join(root, 'fetch');
    const out = capture();
    const first = server.requests.length;
    await runDataCommand(['fetch', 'scifact', '--dir', dir], out, env);
    const url = `${server.baseUrl('ok')}/scifact.zip`;
    assert.equal(
      out.text(),
      `scifact: pin from SPTAR_DATASET_PIN: ${BYTES} bytes, sha256 ${SHA} (not the registry's; BEIR's MD5 not checked)\n` +
        `scifact: downloading ${url} (${BYTES} bytes)\n` +
        `scifact: verified ${BYTES} bytes, sha256 ${SHA}; unpacked 4 files into ${join(dir, 'scifact')}\n`,
    );
    assert.deepEqual((await readdir(join(dir, 'scifact'))).sort(), ['.sptar-dataset.json', 'corpus.jsonl', 'qrels', 'queries.jsonl']);
    const marker = JSON.parse(await readFile(join(dir, 'scifact', '.sptar-dataset.json'), 'utf8')) as { archive: { pinSource: string } };
    assert.equal(marker.archive.pinSource, 'SPTAR_DATASET_PIN');

    const again = capture();
    await runDataCommand(['fetch', 'scifact', '--dir', dir], again, env);
    assert.equal(
      again.text().split('\n')[1],
      `scifact: ${join(dir, 'scifact')} is verified (unpacked from the archive with sha256 ${SHA}); nothing downloaded`,
    );
    assert.equal(server.requests.length, first + 1);

    // Without the override, the registry's pin applies, and this copy is not SciFact's archive.
    await assert.rejects(runDataCommand(['fetch', 'scifact', '--dir', dir], capture(), { SPTAR_DATASET_BASE_URL: server.baseUrl('ok') }), {
      message: `${join(dir, 'scifact')} is not a verified copy of scifact: it was unpacked from an archive with sha256 ${SHA}, not the pinned ${REAL_SHA}. Remove it to fetch scifact again, or point dataset.path at another folder`,
    });
  });

  it('draws download progress on one line on a terminal', async () => {
    const out = capture(true);
    await runDataCommand(['fetch', 'scifact', '--dir', join(root, 'tty')], out, env);
    const lines = out.text().split('\n');
    assert.equal(lines[2], `\r  ${BYTES} / ${BYTES} bytes (100%)`);
  });

  it('data list shows each dataset, its archive and the state of DIR/<name>', async () => {
    const dir = join(root, 'list');
    const out = capture();
    await runDataCommand(['list', '--dir', dir], out, {});
    assert.equal(
      out.text(),
      'scifact  SciFact (BEIR): 5,183 abstracts, 1,109 claims, train and test qrels\n' +
        `  archive https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip  2,816,079 bytes  sha256 ${REAL_SHA}\n` +
        `  ${join(dir, 'scifact')}: not fetched\n`,
    );
    await mkdir(join(dir, 'scifact'), { recursive: true });
    await writeFile(join(dir, 'scifact', 'corpus.jsonl'), '');
    const mine = capture();
    await runDataCommand(['list', '--dir', dir], mine, {});
    assert.equal(mine.text().split('\n')[2], `  ${join(dir, 'scifact')}: present, not fetched by sptar`);
  });

  it('refuses unknown datasets and subcommands with the known names', async () => {
    await assert.rejects(runDataCommand(['fetch', 'nfcorpus'], capture(), {}), {
      message: "unknown dataset 'nfcorpus' (known: scifact); for another BEIR dataset, unpack it anywhere and point dataset.path at its folder",
    });
    await assert.rejects(runDataCommand(['fetch'], capture(), {}), { message: 'data fetch needs a dataset name (known: scifact)' });
    await assert.rejects(runDataCommand(['get'], capture(), {}), { message: /^unknown data command 'get'\nusage: sptar data list \| fetch <name>\n/ });
  });

  it('start fetches a missing dataset.path, then uses the verified copy; a folder of its own is used as it is', async () => {
    const path = join(root, 'start', 'data', 'scifact');
    const out = capture();
    await prepareConfiguredDataset({ name: 'scifact', path }, out, env);
    assert.deepEqual(out.text().split('\n').slice(0, 1), [`dataset scifact: ${path} is missing or empty; fetching it`]);
    assert.equal(out.text().split('\n')[3], `scifact: verified ${BYTES} bytes, sha256 ${SHA}; unpacked 4 files into ${path}`);
    const before = server.requests.length;
    const again = capture();
    await prepareConfiguredDataset({ name: 'scifact', path }, again, env);
    assert.equal(again.text().split('\n').at(-2), `dataset scifact: ${path} (verified, archive sha256 ${SHA})`);

    const own = join(root, 'start', 'mine');
    await mkdir(own);
    await writeFile(join(own, 'corpus.jsonl'), '{}\n');
    const used = capture();
    await prepareConfiguredDataset({ name: 'scifact', path: own }, used, env);
    assert.equal(used.text(), `dataset scifact: ${own} (not fetched by sptar; used as it is)\n`);

    const unknown = capture();
    await prepareConfiguredDataset({ name: 'my-corpus', path: join(root, 'start', 'nowhere') }, unknown, env);
    assert.equal(unknown.text(), '');
    assert.equal(server.requests.length, before, 'nothing downloaded after the first fetch');
  });

  it('start without a network names what to download, where to put it, and the other ways', async () => {
    const port = await refusedPort();
    const path = join(root, 'offline', 'data', 'scifact');
    const url = `http://127.0.0.1:${port}/scifact.zip`;
    await assert.rejects(prepareConfiguredDataset({ name: 'scifact', path }, capture(), { SPTAR_DATASET_BASE_URL: `http://127.0.0.1:${port}` }), {
      message:
        `cannot download ${url}: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}; nothing was unpacked.\n` +
        `To set up scifact by hand, download ${url} (2,816,079 bytes, sha256 ${REAL_SHA}), ` +
        `unzip it and move its folder scifact/ (corpus.jsonl, queries.jsonl, qrels/test.tsv, qrels/train.tsv) to ${path}\n` +
        `(or mirror it: SPTAR_DATASET_BASE_URL=<folder URL holding scifact.zip>; ` +
        `or check and unpack a downloaded copy: npx sptar data fetch scifact --archive scifact.zip --dir ${join(root, 'offline', 'data')})`,
    });
    assert.deepEqual(await readdir(join(root, 'offline', 'data')), []);
  });
});
