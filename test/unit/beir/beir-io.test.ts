import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  loadQrels,
  loadQueries,
  loadRun,
  readCorpus,
  readSourceCorpus,
  readQrels,
  readRun,
  writeCorpus,
  writeQrels,
  writeQueries,
  writeRun,
  type CorpusRow,
} from '../../../lib/beir/index.ts';
import { readRawLines } from '../../../lib/beir/line-reader.ts';
import { scifact } from './scifact-path.ts';

const tmp = await mkdtemp(join(tmpdir(), 'beir-io-'));
const file = (name: string) => join(tmp, name);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('line reader', () => {
  it('splits on LF and CRLF, keeps a last line without newline, and joins lines longer than a read chunk', async () => {
    const long = 'x'.repeat(3 * (1 << 20) + 17); // spans several 1 MiB chunks
    await writeFile(file('lines.txt'), `a\r\nb\n\n${long}\nend`);
    const lines = await collect(readRawLines(file('lines.txt')));
    assert.deepEqual(
      lines.map((l) => [l.lineNumber, l.bytes.length]),
      [[1, 1], [2, 1], [3, 0], [4, long.length], [5, 3]],
    );
    assert.equal(Buffer.from(lines[0]!.bytes).toString(), 'a');
  });

  it('refuses a line longer than the cap instead of buffering it', async () => {
    await writeFile(file('nolf.txt'), 'y'.repeat(5000));
    await assert.rejects(collect(readRawLines(file('nolf.txt'), { maxLineBytes: 1000 })), { name: 'LineTooLongError', message: /nolf\.txt:1: line longer than 1000 bytes/ });
  });
});

describe('BEIR corpus and queries', () => {
  it('round-trips corpus rows, defaulting a missing title to empty', async () => {
    const rows: CorpusRow[] = [
      { _id: 'd1', title: 'T', text: 'über "quoted"\ttab' },
      { _id: 'd2', title: '', text: 'line\nbreak' },
    ];
    assert.equal(await writeCorpus(file('c.jsonl'), rows), 2);
    assert.deepEqual(await collect(readCorpus(file('c.jsonl'))), rows);
    await writeFile(file('c2.jsonl'), '{"_id":"x","text":"no title","extra":1}\n');
    assert.deepEqual(await collect(readCorpus(file('c2.jsonl'))), [{ _id: 'x', title: '', text: 'no title' }]);
  });

  it('fails on a bad row with file, line and reason', async () => {
    await writeFile(file('bad.jsonl'), '{"_id":"a","text":"ok"}\n{"_id":"","text":"empty id"}\n');
    await assert.rejects(collect(readCorpus(file('bad.jsonl'))), (err: Error) => {
      assert.equal(err.name, 'DataFormatError');
      assert.match(err.message, /bad\.jsonl:2: _id: must be a non-empty string\. Fix the row, or read with onBadRow: 'skip'/);
      return true;
    });
    await writeFile(file('notjson.jsonl'), '{"_id":"a","text":"ok"}\n\n{"_id": "b", "text": \n');
    await assert.rejects(collect(readCorpus(file('notjson.jsonl'))), { name: 'DataFormatError', message: /notjson\.jsonl:3: not JSON/ });
  });

  it('detects invalid UTF-8 instead of replacing it', async () => {
    await writeFile(file('latin1.jsonl'), Buffer.concat([Buffer.from('{"_id":"a","text":"ok"}\n{"_id":"b","text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    await assert.rejects(collect(readCorpus(file('latin1.jsonl'))), { name: 'DataFormatError', message: /latin1\.jsonl:2: invalid UTF-8 byte sequence/ });
  });

  it('skips, counts and records bad rows when asked', async () => {
    await writeFile(
      file('mixed.jsonl'),
      Buffer.concat([
        Buffer.from('{"_id":"a","text":"ok"}\n[1,2]\n{"_id":"b","text":"x'),
        Buffer.from([0xff]),
        Buffer.from('"}\n{"_id":"c","text":"fine"}\n'),
      ]),
    );
    const reader = readCorpus(file('mixed.jsonl'), { onBadRow: 'skip', rejectsPath: file('mixed.rejects.jsonl') });
    assert.deepEqual((await collect(reader)).map((r) => r._id), ['a', 'c']);
    assert.equal(reader.stats.rows, 2);
    assert.equal(reader.stats.skipped, 2);
    const rejects = (await readFile(file('mixed.rejects.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(rejects.length, 2);
    assert.deepEqual([rejects[0]!.line, rejects[0]!.raw], [2, '[1,2]']);
    assert.match(String(rejects[0]!.reason), /expected object/);
    assert.deepEqual([rejects[1]!.line, rejects[1]!.reason], [3, 'invalid UTF-8 byte sequence']);
    assert.equal(Buffer.from(String(rejects[1]!.rawBase64), 'base64').at(-3), 0xff);
  });

  it('a source corpus refuses a repeated document id, naming both lines, or skips the repeat and keeps the first', async () => {
    await writeFile(file('dup.jsonl'), '{"_id":"a","text":"first"}\n{"_id":"b","text":"other"}\n\n{"_id":"a","text":"second"}\n');
    await assert.rejects(collect(readSourceCorpus(file('dup.jsonl'))), {
      name: 'DataFormatError',
      message: /dup\.jsonl:4: document id "a" already appeared on line 1; document ids must be unique \(remove or rename the duplicate\)\. Fix the row, or read with onBadRow: 'skip'/,
    });
    const reader = readSourceCorpus(file('dup.jsonl'), { onBadRow: 'skip', rejectsPath: file('dup.rejects.jsonl') });
    assert.deepEqual((await collect(reader)).map((r) => [r._id, r.text]), [['a', 'first'], ['b', 'other']]);
    assert.deepEqual([reader.stats.rows, reader.stats.skipped], [2, 1]);
    const [reject] = (await readFile(file('dup.rejects.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual([reject!.line, reject!.raw], [4, '{"_id":"a","text":"second"}']);
    // The plain reader (prepared artifacts, runs) does not check ids.
    assert.equal((await collect(readCorpus(file('dup.jsonl')))).length, 3);
  });

  it('round-trips queries with and without metadata', async () => {
    const rows = [{ _id: 'q1', text: 'a claim', metadata: { k: [1] } }, { _id: 'q2', text: 'another' }];
    await writeQueries(file('q.jsonl'), rows);
    const loaded = await loadQueries(file('q.jsonl'));
    assert.deepEqual([...loaded.value], [['q1', 'a claim'], ['q2', 'another']]);
    assert.equal(await readFile(file('q.jsonl'), 'utf8'), '{"_id":"q1","text":"a claim","metadata":{"k":[1]}}\n{"_id":"q2","text":"another"}\n');
  });
});

describe('qrels and TREC runs', () => {
  it('writes the BEIR header and reads the rows back', async () => {
    const n = await writeQrels(file('qrels.tsv'), [{ queryId: 'q1', docId: 'd1', score: 2 }, { queryId: 'q1', docId: 'd2', score: 0 }]);
    assert.equal(n, 2);
    assert.equal(await readFile(file('qrels.tsv'), 'utf8'), 'query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\n');
    const { value } = await loadQrels(file('qrels.tsv'));
    assert.deepEqual([...value.get('q1')!], [['d1', 2], ['d2', 0]]);
  });

  it('names the line of a missing header, a non-integer grade and a wrong field count', async () => {
    await writeFile(file('nohead.tsv'), 'q1\td1\t1\n');
    await assert.rejects(collect(readQrels(file('nohead.tsv'))), { message: /nohead\.tsv:1: expected the header/ });
    await writeFile(file('grade.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1.5\n');
    await assert.rejects(collect(readQrels(file('grade.tsv'))), { message: /grade\.tsv:2: score must be an integer, got "1\.5"/ });
    await writeFile(file('fields.tsv'), 'query-id\tcorpus-id\tscore\nq1 d1 1\n');
    await assert.rejects(collect(readQrels(file('fields.tsv'))), { message: /fields\.tsv:2: expected 3 tab-separated fields/ });
    await writeFile(file('dup.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td1\t1\n');
    await assert.rejects(loadQrels(file('dup.tsv')), { name: 'DataFormatError', message: /appears twice/ });
  });

  it('writes runs with ranks from 1 and reads them back by score', async () => {
    await writeRun(file('run.txt'), [{ queryId: 'q1', hits: [{ id: 'd2', score: 3.5 }, { id: 'd1', score: -1 }] }], 'bm25');
    assert.equal(await readFile(file('run.txt'), 'utf8'), 'q1 Q0 d2 1 3.5 bm25\nq1 Q0 d1 2 -1 bm25\n');
    assert.deepEqual([...(await loadRun(file('run.txt'))).value.get('q1')!], [['d2', 3.5], ['d1', -1]]);
    await writeFile(file('badrun.txt'), 'q1 Q0 d1 1 abc tag\n');
    await assert.rejects(collect(readRun(file('badrun.txt'))), { message: /badrun\.txt:1: score must be a number, got "abc"/ });
    await assert.rejects(writeRun(file('x.txt'), [{ queryId: 'q 1', hits: [{ id: 'd', score: 1 }] }], 't'), { name: 'DataFormatError', message: /contains whitespace/ });
  });
});

describe('SciFact as shipped', () => {
  it('reads every row of corpus, queries and both qrels', async () => {
    const corpus = readCorpus(scifact('corpus.jsonl'));
    let count = 0;
    for await (const row of corpus) if (row._id) count++;
    assert.equal(count, 5183);
    assert.equal((await loadQueries(scifact('queries.jsonl'))).value.size, 1109);
    const test = await loadQrels(scifact('qrels/test.tsv'));
    const train = await loadQrels(scifact('qrels/train.tsv'));
    assert.deepEqual([test.stats.rows, test.value.size, train.stats.rows, train.value.size], [339, 300, 564, 505]);
  });
});
