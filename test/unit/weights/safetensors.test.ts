import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WeightTensor } from '../../../lib/models/model-config.ts';
import { bertConfigFromHf, loadBertCheckpoint, loadGpt2Checkpoint } from '../../../lib/weights/hf-checkpoint.ts';
import { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from '../../../lib/weights/safetensors.ts';

function rawFile(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const f32 = new Uint8Array(Float32Array.of(1.5, -2, 0.25, 8).buffer);
const f16 = new Uint8Array(Uint16Array.of(0x3c00, 0xc200).buffer); // 1, -3
const bf16 = new Uint8Array(Uint16Array.of(0x3ec0, 0x4000).buffer); // 0.375, 2
const i64 = new Uint8Array(16);

describe('safetensors', () => {
  it('reads F32, F16 and BF16 tensors exactly and skips integer buffers', () => {
    const file = rawFile(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
        b: { dtype: 'F16', shape: [2], data_offsets: [16, 20] },
        c: { dtype: 'BF16', shape: [1, 2], data_offsets: [20, 24] },
        ids: { dtype: 'I64', shape: [2], data_offsets: [24, 40] },
      },
      concat(f32, f16, bf16, i64),
    );
    const { weights, metadata, skipped } = parseSafetensors(file, 'x.safetensors');
    assert.deepEqual(weights.get('a'), { dims: [2, 2], data: Float32Array.of(1.5, -2, 0.25, 8) });
    assert.deepEqual(Array.from(weights.get('b')?.data ?? []), [1, -3]);
    assert.deepEqual(weights.get('c'), { dims: [1, 2], data: Float32Array.of(0.375, 2) });
    assert.deepEqual(skipped, ['ids']);
    assert.deepEqual(metadata, { format: 'pt' });
  });

  it('round-trips written weights with metadata and an 8-byte aligned header', () => {
    const weights = new Map<string, WeightTensor>([
      ['z.weight', { dims: [3], data: Float32Array.of(1, 2, 3) }],
      ['a.weight', { dims: [2, 1], data: Float32Array.of(-0.5, 1e-30) }],
    ]);
    const bytes = serializeSafetensors(weights, { epoch: '3' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLength) % 8, 0);
    const back = parseSafetensors(bytes, 'mem');
    assert.deepEqual([...back.weights.keys()], ['a.weight', 'z.weight']);
    assert.deepEqual(back.weights.get('a.weight'), weights.get('a.weight'));
    assert.deepEqual(back.weights.get('z.weight'), weights.get('z.weight'));
    assert.deepEqual(back.metadata, { epoch: '3' });
  });

  it('names the file and the fault for truncated or corrupt input', () => {
    const good = rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32);
    assert.throws(() => parseSafetensors(good.subarray(0, 5), 'm.safetensors'), /m\.safetensors: 5 bytes is too short/);
    const hugeHeader = good.slice();
    new DataView(hugeHeader.buffer).setBigUint64(0, 10_000n, true);
    assert.throws(() => parseSafetensors(hugeHeader, 'm.safetensors'), /m\.safetensors: header length 10000 runs past the end of the \d+-byte file/);
    assert.throws(() => parseSafetensors(good.subarray(0, good.length - 4), 'm.safetensors'), /tensor 'a' data_offsets \[0, 16\] fall outside the 12-byte data section/);
    const badJson = rawFile({}, new Uint8Array());
    badJson[8] = 0x7b;
    badJson[9] = 0x7b;
    assert.throws(() => parseSafetensors(badJson, 'm.safetensors'), /m\.safetensors: header is not valid JSON/);
    const fp8 = rawFile({ a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, f32);
    assert.throws(() => parseSafetensors(fp8, 'm.safetensors'), /tensor 'a' has dtype F8_E4M3; supported: F32, F16, BF16/);
    const wrongSize = rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, f32);
    assert.throws(() => parseSafetensors(wrongSize, 'm.safetensors'), /needs 12 bytes, header gives 16/);
  });
});

describe('HF checkpoints', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hf-ckpt-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a tiny GPT-2 checkpoint, dropping the transformer. prefix', async () => {
    const config = { model_type: 'gpt2', vocab_size: 5, n_embd: 4, n_layer: 1, n_head: 2, n_positions: 16, layer_norm_epsilon: 1e-5, n_inner: null };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const t = (dims: number[]): WeightTensor => ({ dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i) });
    await writeSafetensors(join(dir, 'model.safetensors'), new Map([
      ['transformer.wte.weight', t([5, 4])],
      ['transformer.h.0.attn.c_attn.weight', t([4, 12])],
    ]));
    const ckpt = await loadGpt2Checkpoint(dir);
    assert.deepEqual(ckpt.config, { architecture: 'gpt2', vocabSize: 5, hiddenSize: 4, numLayers: 1, numHeads: 2, intermediateSize: 16, layerNormEps: 1e-5, maxPositions: 16 });
    assert.deepEqual([...ckpt.weights.keys()].sort(), ['h.0.attn.c_attn.weight', 'wte.weight']);
    assert.equal(ckpt.weights.get('wte.weight')?.data[19], 19);
    await writeSafetensors(join(dir, 'model.safetensors'), new Map([['wte.weight', t([4, 5])]]));
    await assert.rejects(loadGpt2Checkpoint(dir), /tensor 'wte\.weight' has dims \[4, 5\], config\.json implies \[5, 4\]/);
  });

  it('rejects configs of another architecture', () => {
    assert.throws(() => bertConfigFromHf({ model_type: 'roberta' }, 'c.json'), /c\.json: model_type 'roberta' is not 'bert'/);
  });

  const MINILM = new URL('../../../models/all-minilm-l6-v2', import.meta.url).pathname;
  it('loads the real all-MiniLM-L6-v2 checkpoint', { skip: existsSync(join(MINILM, 'model.safetensors')) ? false : 'MiniLM not installed' }, async () => {
    const { config, weights } = await loadBertCheckpoint(MINILM);
    assert.deepEqual(config, {
      architecture: 'bert', vocabSize: 30522, hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536,
      layerNormEps: 1e-12, maxPositions: 512, typeVocabSize: 2,
    });
    assert.equal(weights.size, 103); // 104 tensors minus the integer position_ids buffer
    assert.deepEqual(weights.get('encoder.layer.5.intermediate.dense.weight')?.dims, [1536, 384]);
    const raw = await readSafetensors(join(MINILM, 'model.safetensors'));
    assert.deepEqual(raw.skipped, ['embeddings.position_ids']);
  });
});
