import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.ts';
import { int8Linear, type Int8LinearForm } from '../../../lib/onnx/layers.ts';
import { quantizeLinearWeight } from '../../../lib/onnx/quantize.ts';
import { ModelSession, hostTensor } from '../../../lib/onnx/session.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';

describe('int8 weights per output channel', () => {
  it('scales each row by its largest magnitude over 127, rounds, and stores the transpose', () => {
    // Rows (output channels) [1, -0.3, 0.25] and [0, 0, 0]; [in, out] = [3, 2] after quantization.
    const q = quantizeLinearWeight(Float32Array.from([1, -0.3, 0.25, 0, 0, 0]), 2, 3);
    assert.equal(q.rows, 3);
    assert.equal(q.cols, 2);
    assert.equal(q.scales[0], Math.fround(1 / 127));
    assert.equal(q.scales[1], 1, 'an all-zero row gets scale 1');
    // -0.3 * 127 = -38.1 rounds to -38; 0.25 * 127 = 31.75 rounds to 32.
    assert.deepEqual([...q.data], [127, 0, -38, 0, 32, 0]);
  });

  it('keeps every weight within half a step of its scale', () => {
    const rng = new Mulberry32(5);
    const [out, inp] = [7, 11];
    const w = rng.floats(out * inp, 2);
    const q = quantizeLinearWeight(w, out, inp);
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inp; i++) {
        const code = q.data[i * out + o]!;
        assert.ok(Math.abs(code) <= 127);
        assert.ok(Math.abs(code * q.scales[o]! - w[o * inp + i]!) <= q.scales[o]! / 2 + 1e-7, `weight [${o}, ${i}]`);
      }
    }
  });
});

describe('int8 Linear layer against float', () => {
  const rng = new Mulberry32(21);
  const [batch, seq, inp, out] = [2, 3, 16, 8];
  const x = rng.floats(batch * seq * inp, 3);
  const w = rng.floats(out * inp, 0.5);
  const bias = rng.floats(out, 0.1);
  const q = quantizeLinearWeight(w, out, inp);

  async function runInt8(form: Int8LinearForm): Promise<Float32Array> {
    const b = new GraphBuilder('int8_linear');
    const input = b.input('x', 'float32', [batch, seq, inp]);
    const y = int8Linear(
      b,
      input,
      { weight: b.initializer('w', 'int8', [inp, out], q.data), scales: b.initializer('s', 'float32', [out], q.scales), bias: b.initializer('bias', 'float32', [out], bias) },
      form,
    );
    b.output(y, 'y');
    const session = await ModelSession.create(b.toBytes(), { label: `int8 linear (${form})` });
    try {
      return (await session.run({ x: hostTensor('float32', [batch, seq, inp], x) }))['y']!.data as Float32Array;
    } finally {
      await session.release();
    }
  }

  // The activation step: the tensor's range widened to include 0, over 255 uint8 steps.
  let lo = 0;
  let hi = 0;
  for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const activationStep = (hi - lo) / 255;

  /**
   * Exact y and, per element, the bound on |int8 y - y|: with x~ = x + dx (|dx| <= s_a / 2) and w~ = w + dw
   * (|dw| <= s_w[o] / 2), x~w~ - xw = dx w + x dw + dx dw, so |error| <= sum_k |w_k| s_a/2 + |x_k| s_w/2 + s_a s_w/4.
   */
  function reference(): { y: Float64Array; bound: Float64Array } {
    const y = new Float64Array(batch * seq * out);
    const bound = new Float64Array(batch * seq * out);
    for (let r = 0; r < batch * seq; r++) {
      for (let o = 0; o < out; o++) {
        let acc = bias[o]!;
        let err = 0;
        for (let k = 0; k < inp; k++) {
          const xv = x[r * inp + k]!;
          const wv = w[o * inp + k]!;
          acc += xv * wv;
          err += (Math.abs(wv) * activationStep) / 2 + (Math.abs(xv) * q.scales[o]!) / 2 + (activationStep * q.scales[o]!) / 4;
        }
        y[r * out + o] = acc;
        bound[r * out + o] = err;
      }
    }
    return { y, bound };
  }

  for (const form of ['fused', 'standard'] as const) {
    it(`(${form}) is within the bound derived from the weight and activation scales, and not exact`, async () => {
      const got = await runInt8(form);
      const { y, bound } = reference();
      let maxError = 0;
      for (let i = 0; i < y.length; i++) {
        const error = Math.abs(got[i]! - y[i]!);
        maxError = Math.max(maxError, error);
        // 1e-5 absolute room for float32 accumulation of the dequantized result.
        assert.ok(error <= bound[i]! + 1e-5, `element ${i}: error ${error} above the bound ${bound[i]}`);
      }
      // Quantization did happen (a float path would be exact to ~1e-6 here), and the error is far below the data.
      assert.ok(maxError > 1e-4, `max error ${maxError}`);
      assert.ok(maxError < 0.1, `max error ${maxError}`);
    });
  }

  it('the contrib node and the standard ops give the same numbers', async () => {
    const [fused, standard] = [await runInt8('fused'), await runInt8('standard')];
    for (let i = 0; i < fused.length; i++) assert.ok(Math.abs(fused[i]! - standard[i]!) < 1e-5, `element ${i}: ${fused[i]} vs ${standard[i]}`);
  });
});
