import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shardDocumentIds, withoutDocuments } from '../../../lib/sptar/prepare-stage.ts';

describe('documents recorded as not done', () => {
  it('drops exactly the given ids from the doc-hashes TSV', () => {
    const tsv = 'a\th1\nb\th2\nc\th3\n';
    assert.deepEqual(withoutDocuments(tsv, new Set(['b', 'x'])), { text: 'a\th1\nc\th3\n', removed: 1 });
    assert.deepEqual(withoutDocuments(tsv, new Set(['a', 'b', 'c'])), { text: '', removed: 3 });
  });

  it("reads a shard's document ids, skipping rows that do not parse", () => {
    const shard = '{"_id":"d1","title":"t","text":"x"}\nnot json\n\n{"_id":"d2","text":"y"}\n{"title":"no id"}\n';
    assert.deepEqual(shardDocumentIds(shard), ['d1', 'd2']);
  });
});
