// Real all-MiniLM-L6-v2 (safetensors -> ONNX encoder graph, tokenizer.json): paraphrases must be closer than
// unrelated sentences. Runs only where the model is installed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildEncoderGraph, ENCODER_NAMES } from '../../../lib/models/encoder-graphs.ts';
import { hostTensor, ModelSession } from '../../../lib/onnx/session.ts';
import { encodeBertBatch } from '../../../lib/tokenizers/bert-batch-encoding.ts';
import { loadTokenizerJson } from '../../../lib/tokenizers/tokenizer-files.ts';
import { loadBertCheckpoint } from '../../../lib/weights/hf-checkpoint.ts';

const MINILM = new URL('../../../models/all-minilm-l6-v2', import.meta.url).pathname;

describe('all-MiniLM-L6-v2 embeddings', { skip: existsSync(join(MINILM, 'model.safetensors')) ? false : 'MiniLM not installed' }, () => {
  it('ranks paraphrases above unrelated pairs by cosine similarity', async () => {
    const { config, weights } = await loadBertCheckpoint(MINILM);
    const tokenizer = await loadTokenizerJson(join(MINILM, 'tokenizer.json'));
    const session = await ModelSession.create(buildEncoderGraph(weights, config, { normalize: true }).toBytes(), { label: 'MiniLM encoder' });
    try {
      const texts = [
        'Vitamin D deficiency increases the risk of bone fractures.',
        'Low levels of vitamin D make broken bones more likely.',
        'The stock market fell sharply on Monday.',
        'Share prices dropped steeply at the start of the week.',
      ];
      const batch = encodeBertBatch(tokenizer, texts, { maxLength: 128 });
      const int64 = (a: Int32Array) => BigInt64Array.from(a, (x) => BigInt(x));
      const dims = [batch.batchSize, batch.seqLen];
      const out = await session.run({
        [ENCODER_NAMES.inputIds]: hostTensor('int64', dims, int64(batch.inputIds)),
        [ENCODER_NAMES.attentionMask]: hostTensor('int64', dims, int64(batch.attentionMask)),
        [ENCODER_NAMES.tokenTypeIds]: hostTensor('int64', dims, int64(batch.tokenTypeIds)),
      });
      const emb = out[ENCODER_NAMES.embedding]?.data as Float32Array;
      const h = config.hiddenSize;
      const cos = (i: number, j: number) => {
        let dot = 0;
        for (let d = 0; d < h; d++) dot += (emb[i * h + d] ?? 0) * (emb[j * h + d] ?? 0);
        return dot;
      };
      const paraphrase = [cos(0, 1), cos(2, 3)];
      const unrelated = [cos(0, 2), cos(0, 3), cos(1, 2), cos(1, 3)];
      console.log(`paraphrase cosines ${paraphrase.map((c) => c.toFixed(3)).join(', ')}; unrelated ${unrelated.map((c) => c.toFixed(3)).join(', ')}`);
      assert.ok(Math.min(...paraphrase) > Math.max(...unrelated) + 0.3);
      assert.ok(Math.abs(cos(0, 0) - 1) < 1e-4, 'normalised embeddings');
    } finally {
      await session.release();
    }
  });
});
