import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appendGradients } from '../../../lib/onnx/autodiff.ts';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.ts';
import * as op from '../../../lib/onnx/ops.ts';
import { ModelSession, hostTensor } from '../../../lib/onnx/session.ts';

describe('appendGradients', () => {
  it('gives an input the loss ignores an explicit zero gradient of its shape', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float64', [2]);
    const unused = b.input('unused', 'float64', ['n', 3]);
    const loss = op.reduceSum(b, op.mul(b, x, x), [0], false);
    const grads = appendGradients(b, loss, [x, unused]);
    b.output(grads.get('x')!, 'gx');
    b.output(grads.get('unused')!, 'gu');
    const s = await ModelSession.create(b.toBytes(), { optimization: 'basic' });
    const out = await s.run({ x: hostTensor('float64', [2], Float64Array.from([3, -1])), unused: hostTensor('float64', [2, 3], new Float64Array(6).fill(5)) });
    assert.deepEqual(Array.from(out.gx?.data as Float64Array), [6, -2]);
    assert.deepEqual(out.gu?.dims, [2, 3]);
    assert.deepEqual(Array.from(out.gu?.data as Float64Array), [0, 0, 0, 0, 0, 0]);
  });

  it('refuses a non-scalar loss, a non-float input, an unrelated loss and an op without a VJP', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float64', [2]);
    const ids = b.input('ids', 'int64', [2]);
    assert.throws(() => appendGradients(b, op.exp(b, x), [x]), /must be a scalar/);
    const loss = op.reduceSum(b, x, [0], false);
    assert.throws(() => appendGradients(b, loss, [ids]), /"ids": it is int64, not float/);
    const other = b.input('other', 'float64', [2]);
    assert.throws(() => appendGradients(b, loss, [other]), /does not depend on any of "other"/);
    const floored = b.node('Floor', [x], { dtype: 'float64', shape: [2] });
    assert.throws(() => appendGradients(b, op.reduceSum(b, floored, [0], false), [x]), /No VJP rule for op Floor .*lib\/onnx\/vjp\.ts/);
  });

  it('names the clash when a graph name is used twice, and bad initializer sizes', () => {
    const b = new GraphBuilder('g');
    b.input('x', 'float32', [1]);
    assert.throws(() => b.input('x', 'float32', [1]), /"x" is already used in graph "g"/);
    assert.throws(() => b.initializer('w', 'float32', [2, 2], new Float32Array(3)), /"w": dims \[2, 2\] need 4 values but 3/);
    assert.throws(() => op.matmul(b, b.input('a', 'float32', [2, 3]), b.input('c', 'float32', [4, 2])), /inner sizes differ/);
  });
});
