import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { GenerationSettings } from '../../../common/generation-types.ts';
import { OnnxCausalDecoder } from '../../../lib/generation/onnx-decoder.ts';
import { loadLlm, type LoadedLlm } from '../../../lib/models/llm-source.ts';
import { promptLimits, promptTokenizer } from '../../../lib/sptar/prompt-limits.ts';
import { PromptTokenizer } from '../../../lib/sptar/prompt-tokens.ts';
import { openWeakQueryWriter, weakQueryWriter, writeWeakQueries, writerExamples } from '../../../lib/sptar/weak-query-generation.ts';
import { WeakQueryWriter } from '../../../lib/sptar/weak-query-writer.ts';
import { DEFAULT_PROMPT_LIMITS, INPARS_EXAMPLES } from '../../../lib/weak-data/index.ts';

const GPT2_TOKENIZER = fileURLToPath(new URL('../../../../shared/tokenizers/gpt2/tokenizer.json', import.meta.url));
const settings: GenerationSettings = {
  llm: { kind: 'tiny', architecture: 'llama', seed: 3, tokenizer: GPT2_TOKENIZER },
  softPrompt: null,
  examples: [{ document: 'Aspirin lowers the risk of stroke in adults.', query: 'aspirin stroke' }],
  maxDocumentWords: 6,
  maxQueryWords: 2,
  maxNewTokens: 4,
  batchSize: 2,
  prefixCache: true,
};
const DOCS = [
  { title: 'Statins', text: 'Statins reduce LDL cholesterol in adults over forty years of age.' },
  { title: '', text: '  ' },
  { title: 'Sleep', text: 'Short sleep is associated with obesity in children.' },
];

describe('prompt limits', () => {
  it('are word limits from the prompt settings', () => {
    assert.deepEqual(promptLimits({ maxDocumentWords: 200, maxQueryWords: 48 }), DEFAULT_PROMPT_LIMITS);
    assert.deepEqual(promptLimits({ maxDocumentWords: 7, maxQueryWords: 3 }), { document: { unit: 'words', max: 7 }, query: { unit: 'words', max: 3 } });
  });
});

describe('the weak query writer from generation settings', () => {
  let llm: LoadedLlm;
  let decoder: OnnxCausalDecoder;
  before(async () => {
    llm = await loadLlm(settings.llm);
    decoder = await OnnxCausalDecoder.create(llm.weights, llm.config);
  });
  after(async () => {
    await decoder.release();
  });

  it("'inpars' means the fixed InPars-style examples", () => {
    assert.equal(writerExamples('inpars'), INPARS_EXAMPLES);
    assert.equal(writerExamples(settings.examples), settings.examples);
  });

  it('cuts the prompt to the settings and writes what a hand-built writer writes', async () => {
    const tokens = promptTokenizer(llm, settings);
    assert.deepEqual(tokens.limits, promptLimits(settings));
    const soft = decoder.embed([464, 318, 257]);
    const byHand = new WeakQueryWriter(decoder, new PromptTokenizer(llm.tokenizer, llm.eosTokenId, promptLimits(settings)), soft, writerExamples(settings.examples), {
      maxNewTokens: settings.maxNewTokens,
      batchSize: settings.batchSize,
      prefixCache: settings.prefixCache,
    });
    const writer = weakQueryWriter(decoder, llm, settings, soft);
    assert.equal(writer.batchSize, 2);
    const out = await writeWeakQueries(writer, DOCS);
    assert.equal(out.length, 3);
    assert.deepEqual(out[1], { failure: 'empty document' });
    assert.deepEqual(out, [...(await byHand.generate(DOCS.slice(0, 2))), ...(await byHand.generate(DOCS.slice(2)))]);
  });

  it('openWeakQueryWriter opens its own decoder; releasing it ends the writer', async () => {
    const opened = await openWeakQueryWriter(llm, { ...settings, examples: 'inpars' }, undefined);
    const out = await opened.writer.generate(DOCS.slice(0, 1));
    assert.equal(out.length, 1);
    await opened.decoder.release();
    await assert.rejects(opened.writer.generate(DOCS.slice(2)));
  });
});
