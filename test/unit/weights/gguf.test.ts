import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadGguf, readGgufHeader } from '../../../lib/weights/gguf.ts';
import { floatToBf16, floatToFp16 } from '../../../lib/weights/half-float.ts';
import { buildGguf, f32Bytes, type FixtureTensor, type FixtureValue } from './gguf-fixture.ts';

const H = 8;
const FF = 4;

function metadata(arch = 'llama'): Record<string, FixtureValue> {
  return {
    'general.architecture': { type: 'string', value: arch },
    'general.alignment': { type: 'u32', value: 64 },
    [`${arch}.block_count`]: { type: 'u32', value: 1 },
    [`${arch}.context_length`]: { type: 'u32', value: 64 },
    [`${arch}.embedding_length`]: { type: 'u32', value: H },
    [`${arch}.feed_forward_length`]: { type: 'u32', value: FF },
    [`${arch}.attention.head_count`]: { type: 'u32', value: 2 },
    [`${arch}.attention.head_count_kv`]: { type: 'u32', value: 1 },
    [`${arch}.rope.freq_base`]: { type: 'f32', value: 500 },
    [`${arch}.attention.layer_norm_rms_epsilon`]: { type: 'f32', value: 0.5 },
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.tokens': { type: 'strings', value: ['a', 'b', 'c', 'd'] },
    'tokenizer.ggml.token_type': { type: 'i32s', value: [1, 1, 1, 3] },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: 3 },
  };
}

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

function q8Block(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(34 * (values.length / 32));
  const view = new DataView(bytes.buffer);
  for (let b = 0; b < values.length / 32; b++) {
    view.setUint16(b * 34, 0x3c00, true); // d = 1
    for (let j = 0; j < 32; j++) view.setInt8(b * 34 + 2 + j, values[b * 32 + j] ?? 0);
  }
  return bytes;
}

function tensors(kType = 3): FixtureTensor[] {
  const q4 = new Uint8Array(20);
  new DataView(q4.buffer).setUint16(0, 0x3c00, true); // d = 1, m = 0
  for (let j = 0; j < 16; j++) q4[4 + j] = j | ((15 - j) << 4);
  return [
    { name: 'token_embd.weight', ne: [H, 4], type: 0, bytes: f32Bytes(range(32, (i) => i * 0.5)) },
    { name: 'blk.0.attn_q.weight', ne: [H, H], type: 8, bytes: q8Block(range(64, (i) => i - 32)) },
    { name: 'blk.0.attn_k.weight', ne: [H, 4], type: kType, bytes: q4 },
    { name: 'blk.0.attn_v.weight', ne: [H, 4], type: 1, bytes: new Uint8Array(Uint16Array.from(range(32, (i) => floatToFp16(i / 4))).buffer) },
    { name: 'blk.0.attn_output.weight', ne: [H, H], type: 30, bytes: new Uint8Array(Uint16Array.from(range(64, (i) => floatToBf16(-i))).buffer) },
    { name: 'blk.0.ffn_gate.weight', ne: [H, FF], type: 0, bytes: f32Bytes(range(32, (i) => i)) },
    { name: 'blk.0.ffn_up.weight', ne: [H, FF], type: 0, bytes: f32Bytes(range(32, (i) => 2 * i)) },
    { name: 'blk.0.ffn_down.weight', ne: [FF, H], type: 0, bytes: f32Bytes(range(32, (i) => 3 * i)) },
    { name: 'blk.0.attn_norm.weight', ne: [H], type: 0, bytes: f32Bytes(range(H, () => 1)) },
    { name: 'blk.0.ffn_norm.weight', ne: [H], type: 0, bytes: f32Bytes(range(H, () => 2)) },
    { name: 'output_norm.weight', ne: [H], type: 0, bytes: f32Bytes(range(H, () => 3)) },
  ];
}

describe('GGUF loader on a hand-built file', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gguf-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  }

  it('reads the config from metadata, with tied embeddings and the vocabulary from the token list', async () => {
    const path = await write('tiny.gguf', buildGguf(metadata(), tensors(), 64));
    const header = await readGgufHeader(path);
    assert.deepEqual(header.config, {
      architecture: 'llama',
      vocabSize: 4,
      hiddenSize: 8,
      intermediateSize: 4,
      numLayers: 1,
      numHeads: 2,
      numKvHeads: 1,
      headDim: 4,
      rmsNormEps: 0.5,
      ropeTheta: 500,
      maxPositions: 64,
      tieWordEmbeddings: true,
    });
    assert.equal(header.tokenizerMetadata.eosTokenId, 3);
    assert.deepEqual(header.tokenizerMetadata.tokenTypes, [1, 1, 1, 3]);
    for (const t of header.tensors) assert.equal(t.fileOffset % 64, 0, `${t.name} starts on the 64-byte alignment`);
  });

  it('decodes every tensor under its HuggingFace name, row-major, with Q/K rows unpermuted', async () => {
    const path = await write('tiny.gguf', buildGguf(metadata(), tensors(), 64));
    const { weights } = await loadGguf(path);
    assert.deepEqual([...weights.keys()].sort(), [
      'model.embed_tokens.weight',
      'model.layers.0.input_layernorm.weight',
      'model.layers.0.mlp.down_proj.weight',
      'model.layers.0.mlp.gate_proj.weight',
      'model.layers.0.mlp.up_proj.weight',
      'model.layers.0.post_attention_layernorm.weight',
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.0.self_attn.o_proj.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.v_proj.weight',
      'model.norm.weight',
    ]);
    const get = (name: string) => {
      const t = weights.get(name);
      assert.ok(t, name);
      return t;
    };
    assert.deepEqual(get('model.embed_tokens.weight').dims, [4, 8]);
    assert.equal(get('model.embed_tokens.weight').data[9], 4.5); // row 1, column 1
    assert.deepEqual(get('model.layers.0.mlp.down_proj.weight').dims, [8, 4]);
    assert.deepEqual(get('model.layers.0.mlp.gate_proj.weight').dims, [4, 8]);
    assert.equal(get('model.layers.0.self_attn.v_proj.weight').data[5], 1.25);
    assert.equal(get('model.layers.0.self_attn.o_proj.weight').data[63], -63);
    // Q: 2 heads of 4 rows; GGUF row order within a head is [0, 2, 1, 3] of the HF order (self-inverse at size 4).
    const q = get('model.layers.0.self_attn.q_proj.weight');
    assert.deepEqual(q.dims, [8, 8]);
    const ggufRowOfHfRow = [0, 2, 1, 3, 4, 6, 5, 7];
    ggufRowOfHfRow.forEach((g, r) => {
      assert.deepEqual(Array.from(q.data.subarray(r * 8, r * 8 + 8)), range(8, (c) => g * 8 + c - 32), `q row ${r}`);
    });
    // K: one KV head of 4 rows, Q4_1 values e (e < 16) and 31 - e.
    const k = get('model.layers.0.self_attn.k_proj.weight');
    const kGguf = range(32, (e) => (e < 16 ? e : 31 - e));
    [0, 2, 1, 3].forEach((g, r) => {
      assert.deepEqual(Array.from(k.data.subarray(r * 8, r * 8 + 8)), kGguf.slice(g * 8, g * 8 + 8), `k row ${r}`);
    });
  });

  it('rejects an unsupported architecture with a clear error', async () => {
    const path = await write('gpt2.gguf', buildGguf(metadata('gpt2'), tensors(), 64));
    await assert.rejects(readGgufHeader(path), /architecture 'gpt2' is not supported \(supported: llama\)/);
  });

  it('names the tensor and type when a tensor encoding is unsupported', async () => {
    const path = await write('q4k.gguf', buildGguf(metadata(), tensors(12), 64));
    await assert.rejects(loadGguf(path), /tensor 'blk\.0\.attn_k\.weight' has GGML type Q4_K/);
  });

  it('detects a truncated file', async () => {
    const bytes = buildGguf(metadata(), tensors(), 64);
    const path = await write('cut.gguf', bytes.subarray(0, bytes.length - 100));
    await assert.rejects(loadGguf(path), /cut\.gguf: tensor '[a-z0-9_.]+' ends at byte \d+ but the file has \d+ bytes; the file is truncated/);
  });
});
