import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { CorruptArtifactError, DataFormatError } from '../../../common/errors.ts';
import { parseJsonlLines, parseJsonlRows, toJsonl } from '../../../lib/beir/jsonl-rows.ts';

const row = z.object({ id: z.string(), n: z.number() });

describe('parseJsonlRows', () => {
  it('parses every non-blank line and round-trips through toJsonl', () => {
    const text = toJsonl([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
    assert.equal(text, '{"id":"a","n":1}\n{"id":"b","n":2}\n');
    assert.deepEqual(parseJsonlRows(new TextEncoder().encode(`${text}\n  \n`), 'k', row, { error: DataFormatError }), [{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
  });

  it('numbers rows by their line in the file, blank lines included', () => {
    assert.deepEqual(parseJsonlLines('\n{"id":"a","n":1}\n\n{"id":"b","n":2}\n', 'k', row, { error: DataFormatError }), [
      { line: 2, row: { id: 'a', n: 1 } },
      { line: 4, row: { id: 'b', n: 2 } },
    ]);
  });

  it('names the source line and raises the caller-chosen error', () => {
    assert.throws(() => parseJsonlRows('{"id":"a","n":1}\n{"id":"b"', 'runs/x.jsonl', row, { error: CorruptArtifactError, expected: 'rows are {id, n}' }), (err: Error) => {
      assert.equal(err.name, 'CorruptArtifactError');
      assert.match(err.message, /^runs\/x\.jsonl:2: not JSON \(.*\); rows are \{id, n\}$/);
      return true;
    });
    assert.throws(() => parseJsonlRows('{"id":"a","n":"1"}', 'data.jsonl', row, { error: DataFormatError }), (err: Error) => {
      assert.equal(err.name, 'DataFormatError');
      assert.match(err.message, /^data\.jsonl:1: n: /);
      return true;
    });
  });

  it('rejects bytes that are not UTF-8', () => {
    assert.throws(() => parseJsonlRows(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), 'k', row, { error: DataFormatError }), { name: 'DataFormatError', message: 'k: not valid UTF-8' });
  });
});
