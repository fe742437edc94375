// Weight quantization for int8 inference graphs: an nn.Linear weight [out, in] to int8 per output channel,
// symmetric (zero point 0), stored transposed [in, out] as the integer MatMuls read it.

export interface Int8Matrix {
  /** int8 values, row-major [in, out] (the transpose of the float weight). */
  readonly data: Int8Array;
  /** One scale per output channel: weight[o][i] ~ data[i][o] * scales[o]. */
  readonly scales: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Largest magnitude of the int8 code: symmetric, so -127..127 (-128 is never used). */
export const INT8_MAX = 127;

/**
 * Per-output-channel symmetric quantization of a float weight [out, in]: scale[o] = max |w[o][*]| / 127 (1 for an
 * all-zero row), code = round(w / scale), so the rounding error of each weight is at most scale[o] / 2.
 */
export function quantizeLinearWeight(weight: Float32Array, out: number, inp: number): Int8Matrix {
  if (weight.length !== out * inp) throw new Error(`quantizeLinearWeight: ${weight.length} values do not make a [${out}, ${inp}] matrix.`);
  const scales = new Float32Array(out);
  const data = new Int8Array(out * inp);
  for (let o = 0; o < out; o++) {
    let absMax = 0;
    for (let i = 0; i < inp; i++) absMax = Math.max(absMax, Math.abs(weight[o * inp + i]!));
    const s = absMax > 0 ? Math.fround(absMax / INT8_MAX) : 1;
    scales[o] = s;
    for (let i = 0; i < inp; i++) {
      const q = Math.round(weight[o * inp + i]! / s);
      data[i * out + o] = Math.max(-INT8_MAX, Math.min(INT8_MAX, q));
    }
  }
  return { data, scales, rows: inp, cols: out };
}
