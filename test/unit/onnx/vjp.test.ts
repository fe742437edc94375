// Every op's VJP against central finite differences in float64 (h = 1e-6: truncation ~1e-12, rounding ~1e-10),
// so a relative error above 1e-6 means a wrong rule, not noise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as op from '../../../lib/onnx/ops.ts';
import * as layers from '../../../lib/onnx/layers.ts';
import { hostTensor } from '../../../lib/onnx/session.ts';
import { gradientCheck } from './gradient-check.ts';

const TOL = 1e-6;
const positive = (n: number) => Array.from({ length: n }, (_, i) => 0.5 + 0.1 * i);

describe('VJP rules match finite differences (float64)', () => {
  const cases: [string, Parameters<typeof gradientCheck>[0], Parameters<typeof gradientCheck>[1]][] = [
    ['MatMul batched x shared weight', [{ name: 'a', dims: [2, 3, 4] }, { name: 'w', dims: [4, 5] }], (b, [a, w]) => op.matmul(b, a!, w!)],
    ['MatMul broadcast batch', [{ name: 'a', dims: [2, 1, 3, 4] }, { name: 'w', dims: [3, 4, 2] }], (b, [a, w]) => op.matmul(b, a!, w!)],
    ['Add broadcast', [{ name: 'a', dims: [2, 3] }, { name: 'c', dims: [3] }], (b, [a, c]) => op.add(b, a!, c!)],
    ['Add broadcast, symbolic dims', [{ name: 'a', dims: [2, 3], declared: ['n', 3] }, { name: 'c', dims: [1, 3], declared: ['m', 3] }], (b, [a, c]) => op.reshape(b, op.add(b, a!, c!), [2, 3])],
    ['Sub broadcast', [{ name: 'a', dims: [2, 1] }, { name: 'c', dims: [2, 3] }], (b, [a, c]) => op.sub(b, a!, c!)],
    ['Mul broadcast', [{ name: 'a', dims: [2, 3] }, { name: 'c', dims: [2, 1] }], (b, [a, c]) => op.mul(b, a!, c!)],
    ['Div', [{ name: 'a', dims: [2, 3] }, { name: 'c', dims: [3], values: positive(3) }], (b, [a, c]) => op.div(b, a!, c!)],
    ['Neg', [{ name: 'a', dims: [4] }], (b, [a]) => op.neg(b, a!)],
    ['Sqrt', [{ name: 'a', dims: [4], values: positive(4) }], (b, [a]) => op.sqrt(b, a!)],
    ['Pow 3', [{ name: 'a', dims: [4] }], (b, [a]) => op.pow(b, a!, 3)],
    ['Pow -0.5', [{ name: 'a', dims: [4], values: positive(4) }], (b, [a]) => op.pow(b, a!, -0.5)],
    ['Exp', [{ name: 'a', dims: [4] }], (b, [a]) => op.exp(b, a!)],
    ['Log', [{ name: 'a', dims: [4], values: positive(4) }], (b, [a]) => op.log(b, a!)],
    ['Tanh', [{ name: 'a', dims: [4] }], (b, [a]) => op.tanh(b, a!)],
    ['Sigmoid', [{ name: 'a', dims: [4] }], (b, [a]) => op.sigmoid(b, a!)],
    ['Sin, Cos', [{ name: 'a', dims: [4] }], (b, [a]) => op.add(b, op.sin(b, a!), op.cos(b, a!))],
    ['Softmax', [{ name: 'a', dims: [2, 5] }], (b, [a]) => op.softmax(b, a!, -1)],
    ['Softmax axis 0', [{ name: 'a', dims: [3, 2] }], (b, [a]) => op.softmax(b, a!, 0)],
    ['LogSoftmax', [{ name: 'a', dims: [2, 5] }], (b, [a]) => op.logSoftmax(b, a!, -1)],
    ['ReduceSum keepdims', [{ name: 'a', dims: [2, 3, 2] }], (b, [a]) => op.reduceSum(b, a!, [1], true)],
    ['ReduceSum to scalar', [{ name: 'a', dims: [2, 3] }], (b, [a]) => op.reduceSum(b, a!, [0, 1], false)],
    ['ReduceMean', [{ name: 'a', dims: [2, 3, 2] }], (b, [a]) => op.reduceMean(b, a!, [0, 2], false)],
    ['ReduceMean, symbolic reduced axis', [{ name: 'a', dims: [2, 3], declared: [2, 'n'] }], (b, [a]) => op.reshape(b, op.reduceMean(b, a!, [1], true), [2, 1])],
    ['Reshape', [{ name: 'a', dims: [2, 6] }], (b, [a]) => op.reshape(b, a!, [3, 4])],
    ['Transpose', [{ name: 'a', dims: [2, 3, 4] }], (b, [a]) => op.transpose(b, a!, [2, 0, 1])],
    ['Concat', [{ name: 'a', dims: [2, 3] }, { name: 'c', dims: [2, 2] }], (b, [a, c]) => op.concat(b, [a!, c!, a!], 1)],
    ['Slice', [{ name: 'a', dims: [3, 5] }], (b, [a]) => op.slice(b, a!, [1, -4], [3, -1], [0, 1])],
    ['Slice, symbolic dims and open end', [{ name: 'a', dims: [3, 5], declared: ['r', 'c'] }], (b, [a]) => op.reshape(b, op.slice(b, a!, [1], [1e9], [1]), [3, 4])],
    ['Where', [{ name: 'a', dims: [2, 3] }, { name: 'c', dims: [3] }], (b, [a, c]) => op.where(b, op.less(b, a!, b.scalar('float64', 0)), a!, c!)],
    ['Cast round trip', [{ name: 'a', dims: [3] }], (b, [a]) => op.cast(b, op.cast(b, a!, 'float64'), 'float64')],
    ['Unsqueeze, Squeeze', [{ name: 'a', dims: [2, 3] }], (b, [a]) => op.squeeze(b, op.mul(b, op.unsqueeze(b, a!, [0, 2]), op.unsqueeze(b, a!, [0, 2])), [0])],
    ['Expand', [{ name: 'a', dims: [3, 1] }], (b, [a]) => op.expand(b, a!, b.int64s([2, 3, 4]), [2, 3, 4])],
    ['Identity', [{ name: 'a', dims: [3] }], (b, [a]) => op.identity(b, a!)],
    ['LayerNorm', [{ name: 'a', dims: [2, 4] }, { name: 'g', dims: [4] }, { name: 'be', dims: [4] }], (b, [a, g, be]) => layers.layerNorm(b, a!, g!, be!, 1e-5)],
    ['RMSNorm', [{ name: 'a', dims: [2, 4] }, { name: 'g', dims: [4] }], (b, [a, g]) => layers.rmsNorm(b, a!, g!, 1e-5)],
    ['GELU tanh', [{ name: 'a', dims: [5] }], (b, [a]) => layers.geluTanh(b, a!)],
    ['GELU erf (float64 composite erf)', [{ name: 'a', dims: [5] }], (b, [a]) => layers.geluErf(b, a!)],
    ['rotate-half', [{ name: 'a', dims: [2, 4] }], (b, [a]) => layers.rotateHalf(b, a!, 4)],
    ['L2 normalise', [{ name: 'a', dims: [2, 3] }], (b, [a]) => layers.l2Normalize(b, a!)],
    ['value used twice', [{ name: 'a', dims: [2, 2] }], (b, [a]) => op.matmul(b, a!, op.tanh(b, a!))],
  ];
  for (const [name, inputs, f] of cases) {
    it(name, async (t) => {
      const { maxRelError } = await gradientCheck(inputs, f);
      t.diagnostic(`max relative error ${maxRelError.toExponential(2)}`);
      assert.ok(maxRelError < TOL, `${name}: max relative error ${maxRelError}`);
    });
  }

  it('Gather (embedding lookup with repeated rows)', async () => {
    const { maxRelError, analytic } = await gradientCheck(
      [{ name: 'emb', dims: [4, 3] }],
      (b, [emb]) => op.gather(b, emb!, b.graphInputs().find((v) => v.name === 'ids')!, 0),
      { extraInputs: (b) => b.input('ids', 'int64', [2, 2]), extra: { ids: hostTensor('int64', [2, 2], BigInt64Array.from([1n, 3n, 1n, 0n])) } },
    );
    assert.ok(maxRelError < TOL, `max relative error ${maxRelError}`);
    // Row 2 is never looked up: its gradient is exactly zero.
    assert.deepEqual(Array.from(analytic[0]!.slice(6, 9)), [0, 0, 0]);
  });

  it('Erf op (float32 kernel between casts; tolerance 1e-3 for float32 rounding)', async () => {
    const { maxRelError } = await gradientCheck([{ name: 'a', dims: [5] }], (b, [a]) => op.cast(b, op.erf(b, op.cast(b, a!, 'float32')), 'float64'), { h: 1e-3 });
    assert.ok(maxRelError < 1e-3, `max relative error ${maxRelError}`);
  });
});
