// A three-file BEIR dataset "tiny" and its archive, laid out as BEIR's archives are (one top folder, a qrels/
// folder, a stray macOS metadata entry), with the archive's own pinned facts. Entries are stored, not deflated,
// so the archive's bytes, and so its pin, are the same on every zlib.
import { datasetEntrySchema, type DatasetEntry } from '../../../lib/datasets/index.ts';
import { buildZip, type ZipEntrySpec } from './zip-fixture.ts';

export const TINY_FILES = {
  'corpus.jsonl': '{"_id": "d1", "title": "Soft prompts", "text": "Tuning a few vectors."}\n{"_id": "d2", "title": "BM25", "text": "A sparse baseline."}\n',
  'queries.jsonl': '{"_id": "q1", "text": "what is soft prompt tuning"}\n',
  'qrels/test.tsv': 'query-id\tcorpus-id\tscore\nq1\td1\t1\n',
} as const;

export const tinyEntries = (overrides: Partial<Record<keyof typeof TINY_FILES, Partial<ZipEntrySpec>>> = {}): ZipEntrySpec[] => [
  { name: 'tiny/' },
  { name: 'tiny/corpus.jsonl', data: TINY_FILES['corpus.jsonl'], ...overrides['corpus.jsonl'] },
  { name: 'tiny/queries.jsonl', data: TINY_FILES['queries.jsonl'], ...overrides['queries.jsonl'] },
  { name: 'tiny/qrels/' },
  { name: 'tiny/qrels/test.tsv', data: TINY_FILES['qrels/test.tsv'], ...overrides['qrels/test.tsv'] },
  { name: '__MACOSX/tiny/._corpus.jsonl', data: 'resource fork' },
];

export const TINY_ARCHIVE = buildZip(tinyEntries());

/** Pinned facts of TINY_ARCHIVE, written out (not computed) so a change to the archive shows here. */
export const TINY_PIN = {
  bytes: 905,
  sha256: 'f7dd53f7c3b011a313e8cb987bddab48d4a94da66a1400d009f16307b56d3034',
  md5: '6e77535b526b1b195a79f96eeef438ee',
};

export const TINY: DatasetEntry = datasetEntrySchema.parse({
  name: 'tiny',
  description: 'a three-file test dataset',
  archive: { file: 'tiny.zip', pin: TINY_PIN },
  folder: 'tiny',
  files: ['corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv'],
});
