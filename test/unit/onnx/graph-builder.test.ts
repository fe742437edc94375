import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.ts';
import * as op from '../../../lib/onnx/ops.ts';
import { ModelSession, hostTensor } from '../../../lib/onnx/session.ts';

const opTypes = (b: GraphBuilder) => (b.toModelProto().graph?.node ?? []).map((n) => n.opType);

async function runGraph(b: GraphBuilder, x: number[]): Promise<Record<string, number[]>> {
  const s = await ModelSession.create(b.toBytes(), { label: 'graph-builder test' });
  try {
    const out = await s.run({ x: hostTensor('float32', [x.length], Float32Array.from(x)) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
  } finally {
    await s.release();
  }
}

describe('GraphBuilder output names', () => {
  it('lets the producing node write a renamed output directly (no Identity copy), also when the value is used further', async () => {
    const b = new GraphBuilder('rename');
    const x = b.input('x', 'float32', [2]);
    const doubled = op.scale(b, x, 2);
    b.output(doubled, 'doubled');
    b.output(op.addScalar(b, doubled, 1), 'plus_one');
    assert.deepEqual(opTypes(b), ['Mul', 'Add']);
    assert.deepEqual(await runGraph(b, [1, 5]), { doubled: [2, 10], plus_one: [3, 11] });
  });

  it('keeps the Identity when a value is exposed under two names or is a graph input', async () => {
    const b = new GraphBuilder('two names');
    const x = b.input('x', 'float32', [2]);
    const tripled = op.scale(b, x, 3);
    b.output(tripled, 'first');
    b.output(tripled, 'second');
    b.output(x, 'echo');
    assert.deepEqual(opTypes(b), ['Mul', 'Identity', 'Identity', 'Identity']);
    assert.deepEqual(await runGraph(b, [1, 2]), { first: [3, 6], second: [3, 6], echo: [1, 2] });
  });

  it('keeps other Identity nodes that read a renamed value', async () => {
    const b = new GraphBuilder('identity reader');
    const x = b.input('x', 'float32', [2]);
    const squared = op.mul(b, x, x);
    const copy = op.identity(b, squared);
    b.output(squared, 'squared');
    b.output(op.neg(b, copy), 'negated');
    assert.deepEqual(opTypes(b), ['Mul', 'Identity', 'Neg']);
    assert.deepEqual(await runGraph(b, [2, 3]), { squared: [4, 9], negated: [-4, -9] });
  });
});
