// GPT-2 ids two ways: the published tokenizer.json, and vocab.json + merges.txt rebuilt the way a GGUF token
// list is. Both go through @huggingface/tokenizers; they must agree id for id.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { TextTokenizer } from '../../../lib/tokenizers/text-tokenizer.ts';
import { loadGpt2VocabFiles, loadTokenizerJson } from '../../../lib/tokenizers/tokenizer-files.ts';

const GPT2 = new URL('../../../../shared/tokenizers/gpt2/', import.meta.url).pathname;
const CORPUS = new URL('../../../../shared/data/scifact/corpus.jsonl', import.meta.url).pathname;

function scifactTexts(count: number): string[] {
  return readFileSync(CORPUS, 'utf8')
    .split('\n')
    .slice(0, count)
    .map((line) => {
      const doc = JSON.parse(line) as { title: string; text: string };
      return `${doc.title}\n${doc.text}`;
    });
}

describe('GPT-2 tokenizer', () => {
  let fromJson: TextTokenizer;
  let fromVocab: TextTokenizer;
  before(async () => {
    fromJson = await loadTokenizerJson(`${GPT2}tokenizer.json`);
    fromVocab = await loadGpt2VocabFiles(`${GPT2}vocab.json`, `${GPT2}merges.txt`);
  });

  it('gives the well-known GPT-2 ids', () => {
    assert.deepEqual(fromJson.encode('Hello world'), [15496, 995]);
    assert.deepEqual(fromJson.encode(' the'), [262]);
    assert.equal(fromJson.special.eos, 50256);
    assert.equal(fromJson.vocabSize, 50257);
  });

  it('tokenizer.json and vocab.json + merges.txt agree on tricky text and 300 SciFact abstracts', () => {
    const texts = [
      "It's 2024: naïve café-goers say 'hi'   there.\n\n\tTabs, émojis 🚀 and <|endoftext|> too",
      '  leading spaces, trailing spaces  ',
      'IL-6 (interleukin-6) levels ↑ by 3.5±0.2 mg/dL; p<0.001',
      ...scifactTexts(300),
    ];
    for (const text of texts) assert.deepEqual(fromVocab.encode(text), fromJson.encode(text), text.slice(0, 60));
  });

  it('decodes back to the exact text', () => {
    for (const text of scifactTexts(100)) assert.equal(fromVocab.decode(fromVocab.encode(text)), text);
  });

  it('rejects a malformed merges file with its line number', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'gpt2-tok-'));
    try {
      await writeFile(join(dir, 'vocab.json'), JSON.stringify({ a: 0, b: 1, ab: 2 }));
      await writeFile(join(dir, 'merges.txt'), '#version: 0.2\na b\nab\n');
      await assert.rejects(loadGpt2VocabFiles(join(dir, 'vocab.json'), join(dir, 'merges.txt')), /merges\.txt:3: merge 'ab' is not two space-separated symbols/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
