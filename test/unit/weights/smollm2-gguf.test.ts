// Runs only where the real SmolLM2 weights are installed (`bash infra/install.sh models`).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadGguf, readGgufHeader } from '../../../lib/weights/gguf.ts';

const SMOLLM2 = new URL('../../../models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf', import.meta.url).pathname;
const skip = existsSync(SMOLLM2) ? false : 'SmolLM2 GGUF not installed';

describe('SmolLM2-135M GGUF', { skip }, () => {
  it('reads the config from the file metadata', async () => {
    const header = await readGgufHeader(SMOLLM2);
    assert.deepEqual(header.config, {
      architecture: 'llama',
      vocabSize: header.metadata['llama.vocab_size'],
      hiddenSize: header.metadata['llama.embedding_length'],
      intermediateSize: header.metadata['llama.feed_forward_length'],
      numLayers: header.metadata['llama.block_count'],
      numHeads: header.metadata['llama.attention.head_count'],
      numKvHeads: header.metadata['llama.attention.head_count_kv'],
      headDim: 64,
      rmsNormEps: header.metadata['llama.attention.layer_norm_rms_epsilon'],
      ropeTheta: header.metadata['llama.rope.freq_base'],
      maxPositions: header.metadata['llama.context_length'],
      tieWordEmbeddings: true,
    });
    // The published SmolLM2-135M architecture.
    assert.equal(header.config.hiddenSize, 576);
    assert.equal(header.config.numLayers, 30);
    assert.equal(header.config.numHeads, 9);
    assert.equal(header.config.numKvHeads, 3);
    assert.equal(header.config.vocabSize, 49152);
    const byType = new Map<number, number>();
    for (const t of header.tensors) byType.set(t.type, (byType.get(t.type) ?? 0) + 1);
    assert.deepEqual([...byType.entries()].sort((a, b) => a[0] - b[0]), [[0, 61], [3, 210], [8, 1]]);
  });

  it('loads all 272 tensors as float32 with HuggingFace names and shapes', async () => {
    const { config, weights } = await loadGguf(SMOLLM2);
    assert.equal(weights.size, 272);
    const dims = (name: string): readonly number[] | undefined => weights.get(name)?.dims;
    assert.deepEqual(dims('model.embed_tokens.weight'), [49152, 576]);
    assert.deepEqual(dims('model.layers.29.self_attn.q_proj.weight'), [576, 576]);
    assert.deepEqual(dims('model.layers.29.self_attn.k_proj.weight'), [192, 576]);
    assert.deepEqual(dims('model.layers.0.mlp.down_proj.weight'), [576, 1536]);
    assert.deepEqual(dims('model.layers.0.mlp.gate_proj.weight'), [1536, 576]);
    assert.deepEqual(dims('model.norm.weight'), [576]);
    assert.equal(weights.has('lm_head.weight'), config.tieWordEmbeddings ? false : true);
    for (const [name, t] of weights) {
      assert.equal(t.data.length, t.dims.reduce((a, b) => a * b, 1), name);
      assert.ok(t.data.every(Number.isFinite), `${name} is finite`);
    }
  });
});
