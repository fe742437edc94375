import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { permuteToInterleaved, unpermuteFromInterleaved } from '../../../lib/weights/rotary-permutation.ts';

function rotateHalfRope(x: readonly number[], position: number): number[] {
  const half = x.length / 2;
  const out = [...x];
  for (let i = 0; i < half; i++) {
    const angle = position * 10000 ** (-(2 * i) / x.length);
    const [a, b] = [x[i] ?? 0, x[i + half] ?? 0];
    out[i] = a * Math.cos(angle) - b * Math.sin(angle);
    out[i + half] = b * Math.cos(angle) + a * Math.sin(angle);
  }
  return out;
}

function interleavedRope(x: readonly number[], position: number): number[] {
  const out = [...x];
  for (let i = 0; i < x.length / 2; i++) {
    const angle = position * 10000 ** (-(2 * i) / x.length);
    const [a, b] = [x[2 * i] ?? 0, x[2 * i + 1] ?? 0];
    out[2 * i] = a * Math.cos(angle) - b * Math.sin(angle);
    out[2 * i + 1] = b * Math.cos(angle) + a * Math.sin(angle);
  }
  return out;
}

describe('rotary row permutation', () => {
  it('interleaves the two halves of each head', () => {
    const rows = Float32Array.from({ length: 12 }, (_, i) => i);
    // two heads of six rows: [0 1 2 | 3 4 5] -> [0 3 1 4 2 5]
    assert.deepEqual(Array.from(permuteToInterleaved(rows, 12, 1, 2)), [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]);
    assert.deepEqual(Array.from(unpermuteFromInterleaved(Float32Array.of(0, 3, 1, 4, 2, 5), 6, 1, 1)), [0, 1, 2, 3, 4, 5]);
  });

  it('moves whole rows and round-trips', () => {
    const rows = 16;
    const cols = 3;
    const data = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7));
    const permuted = permuteToInterleaved(data, rows, cols, 2);
    assert.notDeepEqual(Array.from(permuted), Array.from(data));
    assert.deepEqual(Array.from(unpermuteFromInterleaved(permuted, rows, cols, 2)), Array.from(data));
    // row 1 of head 0 (rotate-half index 1) lands on interleaved row 2
    assert.deepEqual(Array.from(permuted.subarray(2 * cols, 3 * cols)), Array.from(data.subarray(cols, 2 * cols)));
  });

  it('maps rotate-half rotary on HF rows to interleaved rotary on GGUF rows', () => {
    // head size 8: the permutation is not its own inverse, so a swapped direction would fail here
    const q = [0.3, -1.2, 0.7, 2.1, -0.4, 0.9, 1.5, -0.8];
    const ggufRows = Array.from(permuteToInterleaved(Float32Array.from(q), 8, 1, 1));
    for (const position of [1, 5, 17]) {
      const viaHf = Array.from(permuteToInterleaved(Float32Array.from(rotateHalfRope(q, position)), 8, 1, 1));
      const viaGguf = interleavedRope(ggufRows, position);
      viaHf.forEach((v, i) => assert.ok(Math.abs(v - (viaGguf[i] ?? NaN)) < 1e-5, `position ${position}, dim ${i}`));
    }
    const wrongDirection = Array.from(unpermuteFromInterleaved(Float32Array.from(q), 8, 1, 1));
    assert.notDeepEqual(wrongDirection, ggufRows);
  });

  it('rejects shapes that do not split into heads of even size', () => {
    assert.throws(() => permuteToInterleaved(new Float32Array(12), 6, 2, 4), /6 rows cannot be split into 4 heads/);
    assert.throws(() => unpermuteFromInterleaved(new Float32Array(6), 6, 1, 2, 'blk.0.attn_k.weight'), /blk\.0\.attn_k\.weight.*head dimension 3 is odd/);
  });
});
