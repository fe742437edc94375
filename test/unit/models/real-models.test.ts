// Runs only where the real weights are installed (`bash infra/install.sh models`): the graphs on SmolLM2-135M and
// all-MiniLM-L6-v2 behave like language and sentence models (no published logits are available offline).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildSoftPromptLossGraph } from '../../../lib/models/decoder-graphs.ts';
import { buildEncoderGraph } from '../../../lib/models/encoder-graphs.ts';
import { ModelSession, hostTensor } from '../../../lib/onnx/session.ts';
import { encodeBertBatch } from '../../../lib/tokenizers/bert-batch-encoding.ts';
import { tokenizerFromGgufMetadata } from '../../../lib/tokenizers/gguf-tokenizer.ts';
import { loadTokenizerJson } from '../../../lib/tokenizers/tokenizer-files.ts';
import { loadGguf } from '../../../lib/weights/gguf.ts';
import { loadBertCheckpoint } from '../../../lib/weights/hf-checkpoint.ts';

const SMOLLM2 = new URL('../../../models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const MINILM = new URL('../../../models/all-minilm-l6-v2', import.meta.url).pathname;

describe('SmolLM2-135M causal-LM loss graph', { skip: existsSync(SMOLLM2) ? false : 'SmolLM2 GGUF not installed' }, () => {
  it('natural text is far more likely than the same tokens reversed', async (t) => {
    const model = await loadGguf(SMOLLM2);
    const tokenizer = tokenizerFromGgufMetadata(model.tokenizerMetadata, SMOLLM2);
    const s = await ModelSession.create(buildSoftPromptLossGraph(model.weights, model.config, { promptLength: 0, gradient: false }).toBytes(), { label: 'SmolLM2 loss' });
    const ids = tokenizer.encode('The capital of France is Paris. The capital of Germany is Berlin. The capital of Italy is Rome.');
    // A fixed permutation (reversal) keeps the same tokens in an unnatural order.
    const loss = async (seq: number[]) => {
      const n = seq.length;
      const out = await s.run({
        input_ids: hostTensor('int64', [1, n], BigInt64Array.from(seq.map(BigInt))),
        label_mask: hostTensor('float32', [1, n], new Float32Array(n).fill(1)),
        attention_mask: hostTensor('int64', [1, n], new BigInt64Array(n).fill(1n)),
      });
      return out.loss?.data[0] as number;
    };
    const natural = await loss(ids);
    const reversed = await loss([...ids].reverse());
    t.diagnostic(`mean loss: natural ${natural.toFixed(3)}, reversed ${reversed.toFixed(3)} nats/token`);
    assert.ok(natural < 3, `mean loss ${natural} nats per token on plain factual text`);
    assert.ok(natural < reversed / 2, `natural ${natural} vs reversed ${reversed}`);
    await s.release();
  });
});

describe('all-MiniLM-L6-v2 encoder graph', { skip: existsSync(`${MINILM}/model.safetensors`) ? false : 'all-MiniLM-L6-v2 not installed' }, () => {
  it('paraphrases are closer than unrelated sentences; embeddings have unit length', async (t) => {
    const { config, weights } = await loadBertCheckpoint(MINILM);
    const tokenizer = await loadTokenizerJson(`${MINILM}/tokenizer.json`);
    const s = await ModelSession.create(buildEncoderGraph(weights, config, { normalize: true }).toBytes(), { label: 'MiniLM encoder' });
    const batch = encodeBertBatch(tokenizer, ['A man is eating food.', 'A man is eating a piece of bread.', 'The new movie is awful.'], { maxLength: 128 });
    const dims = [batch.batchSize, batch.seqLen];
    const toI64 = (a: Int32Array) => BigInt64Array.from(Array.from(a, BigInt));
    const out = await s.run({
      input_ids: hostTensor('int64', dims, toI64(batch.inputIds)),
      attention_mask: hostTensor('int64', dims, toI64(batch.attentionMask)),
      token_type_ids: hostTensor('int64', dims, toI64(batch.tokenTypeIds)),
    });
    const e = out.sentence_embedding?.data as Float32Array;
    const h = config.hiddenSize;
    const dot = (i: number, j: number) => e.subarray(i * h, (i + 1) * h).reduce((a, v, k) => a + v * (e[j * h + k] as number), 0);
    t.diagnostic(`cosine: paraphrase ${dot(0, 1).toFixed(4)}, unrelated ${dot(0, 2).toFixed(4)}`);
    assert.ok(Math.abs(dot(0, 0) - 1) < 1e-5);
    assert.ok(dot(0, 1) > 0.5 && dot(0, 1) > dot(0, 2) + 0.3, `paraphrase ${dot(0, 1)}, unrelated ${dot(0, 2)}`);
    await s.release();
  });
});
