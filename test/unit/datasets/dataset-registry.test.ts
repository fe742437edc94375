import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DATASET_BASE_URL, KNOWN_DATASETS, archiveUrl, datasetEntrySchema, findDataset, formatBytes } from '../../../lib/datasets/index.ts';

describe('dataset registry', () => {
  it("pins SciFact's BEIR archive as BEIR's loader downloads it", () => {
    assert.deepEqual([...KNOWN_DATASETS.keys()], ['scifact']);
    const scifact = findDataset('scifact');
    assert.ok(scifact);
    assert.deepEqual(scifact.archive, {
      file: 'scifact.zip',
      pin: { bytes: 2816079, sha256: '536e14446a0ba56ed1398ab1055f39fe852686ecad24a6306c80c490fa8e0165', md5: '5f7d1de60b170fc8027bb7898e2efca1' },
    });
    assert.equal(scifact.folder, 'scifact');
    assert.deepEqual(scifact.files, ['corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv', 'qrels/train.tsv']);
    assert.equal(archiveUrl(scifact), 'https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip');
    assert.equal(archiveUrl(scifact, 'http://127.0.0.1:8000/mirror/'), 'http://127.0.0.1:8000/mirror/scifact.zip');
    assert.equal(DEFAULT_DATASET_BASE_URL, 'https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets');
    assert.equal(findDataset('msmarco'), undefined);
  });

  it('refuses entries with a malformed pin or a path that could leave the folder', () => {
    const good = { name: 'x', description: 'x', archive: { file: 'x.zip', pin: { bytes: 1, sha256: 'a'.repeat(64), md5: null } }, folder: 'x', files: ['corpus.jsonl'] };
    assert.equal(datasetEntrySchema.safeParse(good).success, true);
    const bad = (patch: object) => datasetEntrySchema.safeParse({ ...good, ...patch }).success;
    assert.equal(bad({ archive: { file: 'x.zip', pin: { bytes: 1, sha256: 'A'.repeat(64), md5: null } } }), false);
    assert.equal(bad({ archive: { file: '../x.zip', pin: good.archive.pin } }), false);
    assert.equal(bad({ files: ['../corpus.jsonl'] }), false);
    assert.equal(bad({ files: ['qrels/./test.tsv'] }), false);
    assert.equal(bad({ folder: 'a/b' }), false);
  });

  it('formats byte counts with fixed grouping', () => {
    assert.equal(formatBytes(2816079), '2,816,079');
    assert.equal(formatBytes(905), '905');
    assert.equal(formatBytes(1000), '1,000');
  });
});
