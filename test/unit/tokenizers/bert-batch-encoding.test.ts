import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { encodeBertBatch } from '../../../lib/tokenizers/bert-batch-encoding.ts';
import { TextTokenizer } from '../../../lib/tokenizers/text-tokenizer.ts';
import { loadTokenizerJson } from '../../../lib/tokenizers/tokenizer-files.ts';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello', 'world', '##s', 'cell', '.'];

function tinyWordPiece(): TextTokenizer {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const json = {
    version: '1.0',
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
  };
  return TextTokenizer.fromJson(json, {}, { pad: 0, unk: 1, cls: 2, sep: 3 });
}

describe('BERT batch encoding', () => {
  it('lower-cases, wraps in [CLS]/[SEP], pads to the longest row and masks padding', () => {
    const batch = encodeBertBatch(tinyWordPiece(), ['Hello WORLDS.', 'cells', 'zebra'], { maxLength: 16 });
    assert.equal(batch.seqLen, 6);
    assert.deepEqual(Array.from(batch.inputIds), [
      2, 4, 5, 6, 8, 3,
      2, 7, 6, 3, 0, 0,
      2, 1, 3, 0, 0, 0,
    ]);
    assert.deepEqual(Array.from(batch.attentionMask), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(batch.tokenTypeIds), new Array(18).fill(0));
    assert.deepEqual(batch.lengths, [6, 4, 3]);
  });

  it('truncates to maxLength keeping [SEP] last, and pads to maxLength on request', () => {
    const t = tinyWordPiece();
    const cut = encodeBertBatch(t, ['hello world hello world cell'], { maxLength: 4 });
    assert.deepEqual(Array.from(cut.inputIds), [2, 4, 5, 3]);
    const fixed = encodeBertBatch(t, ['cell'], { maxLength: 5, padding: 'max_length' });
    assert.deepEqual(Array.from(fixed.inputIds), [2, 7, 3, 0, 0]);
    assert.deepEqual(Array.from(fixed.attentionMask), [1, 1, 1, 0, 0]);
    assert.throws(() => encodeBertBatch(t, ['x'], { maxLength: 1 }), /maxLength must be an integer >= 2/);
  });

  const MINILM = new URL('../../../models/all-minilm-l6-v2/tokenizer.json', import.meta.url).pathname;
  it('matches the real MiniLM tokenizer conventions', { skip: existsSync(MINILM) ? false : 'MiniLM not installed' }, async () => {
    const t = await loadTokenizerJson(MINILM);
    assert.deepEqual([t.special.pad, t.special.unk, t.special.cls, t.special.sep], [0, 100, 101, 102]);
    assert.deepEqual(t.encode('Hello World'), t.encode('hello world'));
    assert.deepEqual(t.encode('the cell', { addSpecialTokens: true }), [101, t.requireId('the'), t.requireId('cell'), 102]);
    const batch = encodeBertBatch(t, ['The cell.', 'A much longer sentence about proteins and cells'], { maxLength: 6 });
    assert.equal(batch.seqLen, 6);
    assert.deepEqual(Array.from(batch.inputIds.subarray(0, 6)), [101, t.requireId('the'), t.requireId('cell'), t.requireId('.'), 102, 0]);
    assert.equal(batch.inputIds[11], 102);
  });
});
