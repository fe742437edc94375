import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GgmlType, dequantizeGgml, ggmlByteSize } from '../../../lib/weights/ggml-dequantize.ts';
import { bf16ToFloat, floatToBf16, floatToFp16, fp16ToFloat } from '../../../lib/weights/half-float.ts';

function u16(view: DataView, at: number, bits: number): void {
  view.setUint16(at, bits, true);
}

describe('half floats', () => {
  it('decodes known fp16 bit patterns exactly', () => {
    assert.equal(fp16ToFloat(0x3c00), 1);
    assert.equal(fp16ToFloat(0xc000), -2);
    assert.equal(fp16ToFloat(0x3555), 0.333251953125);
    assert.equal(fp16ToFloat(0x7bff), 65504);
    assert.equal(fp16ToFloat(0x0001), 2 ** -24);
    assert.equal(fp16ToFloat(0x7c00), Infinity);
    assert.ok(Number.isNaN(fp16ToFloat(0x7e00)));
    assert.ok(Object.is(fp16ToFloat(0x8000), -0));
  });

  it('round-trips every finite fp16 value through float encoding', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      assert.equal(floatToFp16(fp16ToFloat(bits)), bits, `bits 0x${bits.toString(16)}`);
    }
  });

  it('rounds to nearest even when encoding fp16', () => {
    assert.equal(floatToFp16(1 + 2 ** -11), 0x3c00); // exactly halfway, even mantissa kept
    assert.equal(floatToFp16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(floatToFp16(1e6), 0x7c00);
  });

  it('decodes and encodes bfloat16', () => {
    assert.equal(bf16ToFloat(0x3f80), 1);
    assert.equal(bf16ToFloat(0xc040), -3);
    assert.equal(bf16ToFloat(0x3ec0), 0.375);
    assert.equal(floatToBf16(1), 0x3f80);
    assert.equal(floatToBf16(-3), 0xc040);
    assert.equal(floatToBf16(1 + 2 ** -8), 0x3f80); // halfway rounds to even
  });
});

describe('GGML dequantisation', () => {
  it('decodes a hand-built Q4_1 block: value = d * q + m, low nibbles first', () => {
    const bytes = new Uint8Array(20);
    const view = new DataView(bytes.buffer);
    u16(view, 0, 0x3800); // d = 0.5
    u16(view, 2, 0xbc00); // m = -1
    for (let j = 0; j < 16; j++) bytes[4 + j] = j | ((15 - j) << 4);
    const out = dequantizeGgml(GgmlType.Q4_1, bytes, 32, 'q4_1');
    const expected = [
      ...Array.from({ length: 16 }, (_, j) => 0.5 * j - 1),
      ...Array.from({ length: 16 }, (_, j) => 0.5 * (15 - j) - 1),
    ];
    assert.deepEqual(Array.from(out), expected);
  });

  it('decodes a hand-built Q8_0 block: value = d * int8', () => {
    const bytes = new Uint8Array(34 * 2);
    const view = new DataView(bytes.buffer);
    u16(view, 0, 0x3400); // d = 0.25
    for (let j = 0; j < 32; j++) view.setInt8(2 + j, j - 16);
    u16(view, 34, 0xc000); // second block: d = -2
    for (let j = 0; j < 32; j++) view.setInt8(36 + j, j === 0 ? -128 : j === 1 ? 127 : 0);
    const out = dequantizeGgml(GgmlType.Q8_0, bytes, 64, 'q8_0');
    assert.deepEqual(Array.from(out.subarray(0, 32)), Array.from({ length: 32 }, (_, j) => 0.25 * (j - 16)));
    assert.equal(out[32], 256);
    assert.equal(out[33], -254);
    assert.equal(out[34], -0);
  });

  it('decodes a hand-built Q4_0 block: value = d * (q - 8)', () => {
    const bytes = new Uint8Array(18);
    const view = new DataView(bytes.buffer);
    u16(view, 0, 0x4000); // d = 2
    for (let j = 0; j < 16; j++) bytes[2 + j] = j | (j << 4);
    const out = dequantizeGgml(GgmlType.Q4_0, bytes, 32, 'q4_0');
    const half = Array.from({ length: 16 }, (_, j) => 2 * (j - 8));
    assert.deepEqual(Array.from(out), [...half, ...half]);
  });

  it('decodes F32, F16 and BF16 arrays', () => {
    assert.deepEqual(Array.from(dequantizeGgml(GgmlType.F32, new Uint8Array(Float32Array.of(1.5, -2).buffer), 2, 'f32')), [1.5, -2]);
    assert.deepEqual(Array.from(dequantizeGgml(GgmlType.F16, new Uint8Array(Uint16Array.of(0x3c00, 0xc000).buffer), 2, 'f16')), [1, -2]);
    assert.deepEqual(Array.from(dequantizeGgml(GgmlType.BF16, new Uint8Array(Uint16Array.of(0x3ec0, 0xc040).buffer), 2, 'bf16')), [0.375, -3]);
  });

  it('reports byte sizes per encoding', () => {
    assert.equal(ggmlByteSize(GgmlType.Q4_1, 64, 't'), 40);
    assert.equal(ggmlByteSize(GgmlType.Q8_0, 64, 't'), 68);
    assert.equal(ggmlByteSize(GgmlType.F16, 3, 't'), 6);
    assert.throws(() => ggmlByteSize(GgmlType.Q4_1, 33, 'blk.0.x'), /blk\.0\.x.*33 values.*block size 32/);
  });

  it('names tensor and type when the encoding is unsupported', () => {
    assert.throws(() => dequantizeGgml(12, new Uint8Array(144), 256, 'blk.3.ffn_up.weight'), /tensor 'blk\.3\.ffn_up\.weight' has GGML type Q4_K/);
  });

  it('rejects data shorter than the tensor needs', () => {
    assert.throws(() => dequantizeGgml(GgmlType.Q8_0, new Uint8Array(33), 32, 'emb'), /'emb' needs 34 bytes.*only 33/);
  });
});
