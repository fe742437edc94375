import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CorruptArtifactError } from '../../../common/errors.ts';
import { groupExamples, readLabeledData, type LabeledDataFiles } from '../../../lib/sptar/labeled-data.ts';

const corpus = [
  { _id: 'd1', title: 'Folding', text: 'protein folding in the cell' },
  { _id: 'd2', title: '', text: 'vitamin D and bone density' },
  { _id: 'd3', title: 'Sleep', text: 'short sleep and obesity' },
  { _id: 'd4', title: 'Unjudged', text: 'never in a qrels file' },
];
const queries = [
  { _id: 'q1', text: 'how do proteins fold' },
  { _id: 'q2', text: 'vitamin D bones' },
  { _id: 'q3', text: 'sleep and weight' },
];
const jsonl = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const qrels = (rows: readonly [string, string][]) => ['query-id\tcorpus-id\tscore', ...rows.map(([q, d]) => `${q}\t${d}\t1`)].join('\n') + '\n';

describe('labeled data of the LLM stages', () => {
  let dir: string;
  let files: LabeledDataFiles;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-labeled-'));
    files = { corpus: join(dir, 'corpus.jsonl'), queries: join(dir, 'queries.jsonl'), sTrain: join(dir, 'train.tsv'), sEval: join(dir, 'eval.tsv') };
    await writeFile(files.corpus, jsonl(corpus));
    await writeFile(files.queries, jsonl(queries));
    await writeFile(files.sTrain, qrels([['q2', 'd2'], ['q1', 'd3'], ['q1', 'd1']]));
    await writeFile(files.sEval, qrels([['q3', 'd3']]));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads S_train and S_eval as (title + text, query) pairs in qrels order', async () => {
    const data = await readLabeledData(files);
    assert.deepEqual(data.train, [
      { document: 'vitamin D and bone density', query: 'vitamin D bones' },
      { document: 'Sleep short sleep and obesity', query: 'how do proteins fold' },
      { document: 'Folding protein folding in the cell', query: 'how do proteins fold' },
    ]);
    assert.deepEqual(data.evalPairs, [{ document: 'Sleep short sleep and obesity', query: 'sleep and weight' }]);
    assert.deepEqual(groupExamples(data.train, [2, 0]), [data.train[2], data.train[0]]);
    assert.throws(() => groupExamples(data.train, [3]), CorruptArtifactError);
  });

  it('a pair whose document or query is missing is a corrupt artifact', async () => {
    const bad = join(dir, 'bad.tsv');
    await writeFile(bad, qrels([['q1', 'd9']]));
    await assert.rejects(readLabeledData({ ...files, sEval: bad }), CorruptArtifactError);
  });
});
