import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { GgufTokenizerMetadata } from '../../../lib/tokenizers/gguf-tokenizer-metadata.ts';
import { tokenizerFromGgufMetadata } from '../../../lib/tokenizers/gguf-tokenizer.ts';
import type { TextTokenizer } from '../../../lib/tokenizers/text-tokenizer.ts';
import { readGgufHeader } from '../../../lib/weights/gguf.ts';

function tinyMetadata(overrides: Partial<GgufTokenizerMetadata> = {}): GgufTokenizerMetadata {
  return {
    model: 'gpt2',
    pre: 'smollm',
    tokens: ['<|end|>', 'a', 'b', 'ab', 'Ġ', 'Ġab', '1', '2', 'Ġb', '12'],
    merges: ['a b', 'Ġ ab', 'Ġ b', '1 2'],
    tokenTypes: [3, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    bosTokenId: undefined,
    eosTokenId: 0,
    unknownTokenId: undefined,
    paddingTokenId: 0,
    addBosToken: false,
    chatTemplate: undefined,
    ...overrides,
  };
}

describe('tokenizer from GGUF metadata (hand-built vocabulary)', () => {
  it('applies merges by priority, splits digits one by one and keeps control tokens whole', () => {
    const t = tokenizerFromGgufMetadata(tinyMetadata());
    // "ab" -> ab; " ab" -> Ġab; "12" stays two tokens because the smollm rules isolate digits before BPE.
    assert.deepEqual(t.encode('ab ab12'), [3, 5, 6, 7]);
    assert.deepEqual(t.encode(' b<|end|>'), [8, 0]);
    assert.equal(t.decode([3, 5, 6, 7, 0]), 'ab ab12<|end|>');
    assert.equal(t.decode([3, 0], { skipSpecialTokens: true }), 'ab');
    assert.equal(t.special.eos, 0);
  });

  it('with GPT-2 rules digits merge', () => {
    const t = tokenizerFromGgufMetadata(tinyMetadata({ pre: 'gpt-2' }));
    assert.deepEqual(t.encode('ab12'), [3, 9]);
  });

  it('rejects tokenizers it cannot express, naming what is supported', () => {
    assert.throws(() => tokenizerFromGgufMetadata(tinyMetadata({ model: 'llama' }), 'm.gguf'), /m\.gguf: tokenizer model 'llama' is not supported/);
    assert.throws(() => tokenizerFromGgufMetadata(tinyMetadata({ pre: 'qwen2' }), 'm.gguf'), /pre-tokenizer 'qwen2' is not supported \(supported: smollm, gpt-2, default\)/);
    assert.throws(() => tokenizerFromGgufMetadata(tinyMetadata({ tokens: ['a', 'a'], tokenTypes: [1, 1], merges: [] })), /'a' twice \(ids 0 and 1\)/);
  });
});

const SMOLLM2 = new URL('../../../models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const CORPUS = new URL('../../../../shared/data/scifact/corpus.jsonl', import.meta.url).pathname;

describe('SmolLM2 tokenizer from its GGUF file', { skip: existsSync(SMOLLM2) ? false : 'SmolLM2 GGUF not installed' }, () => {
  let t: TextTokenizer;
  let tokens: readonly string[];
  before(async () => {
    const header = await readGgufHeader(SMOLLM2);
    tokens = header.tokenizerMetadata.tokens;
    t = tokenizerFromGgufMetadata(header.tokenizerMetadata, SMOLLM2);
  });

  it('has the SmolLM2 special tokens and ids', () => {
    assert.equal(t.vocabSize, 49152);
    assert.deepEqual([t.special.unk, t.special.bos, t.special.eos, t.special.pad], [0, 1, 2, 2]);
    assert.deepEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((s) => t.tokenToId(s)), [0, 1, 2]);
    assert.deepEqual(t.encode('<|im_start|>user\nHi<|im_end|>'), [1, tokens.indexOf('user'), tokens.indexOf('Ċ'), tokens.indexOf('Hi'), 2]);
  });

  it('encodes words to the vocabulary entries they must map to', () => {
    const id = (token: string): number => {
      const i = tokens.indexOf(token);
      assert.ok(i >= 0, token);
      return i;
    };
    // Whole words present in the vocabulary are single tokens; a leading space is the byte-level 'Ġ'.
    assert.deepEqual(t.encode('Hello world'), [id('Hello'), id('Ġworld')]);
    assert.deepEqual(t.encode(' the protein'), [id('Ġthe'), id('Ġprotein')]);
    // smollm pre-tokenisation isolates every digit, even where a merged number token exists.
    assert.deepEqual(t.encode('2024'), [id('2'), id('0'), id('2'), id('4')]);
    assert.deepEqual(t.encode('\n'), [id('Ċ')]);
    assert.deepEqual(t.encode(' \n Relevant Query: '), t.tokenize(' \n Relevant Query: ').map(id));
  });

  it('decodes 300 SciFact abstracts back to the exact text', () => {
    const lines = readFileSync(CORPUS, 'utf8').split('\n').slice(0, 300);
    for (const line of lines) {
      const doc = JSON.parse(line) as { title: string; text: string };
      const text = `Document: ${doc.title} ${doc.text} \n Relevant Query: `;
      assert.equal(t.decode(t.encode(text)), text);
    }
  });
});
