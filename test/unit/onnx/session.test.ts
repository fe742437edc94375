import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cachedGraphPath, weightsDigest } from '../../../lib/onnx/graph-cache.ts';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.ts';
import * as op from '../../../lib/onnx/ops.ts';
import { ModelSession, SessionInputError, hostTensor } from '../../../lib/onnx/session.ts';

function addGraph(): Uint8Array {
  const b = new GraphBuilder('add');
  const x = b.input('x', 'float32', ['n']);
  const y = b.input('y', 'float32', ['n']);
  b.output(op.add(b, x, y), 'sum');
  return b.toBytes();
}

describe('ModelSession', () => {
  it('runs and returns named outputs', async () => {
    const s = await ModelSession.create(addGraph(), { label: 'add graph' });
    const out = await s.run({ x: hostTensor('float32', [2], Float32Array.from([1, 2])), y: hostTensor('float32', [2], Float32Array.from([10, 20])) });
    assert.deepEqual(Array.from(out.sum?.data as Float32Array), [11, 22]);
    await s.release();
  });

  it('names missing and unknown inputs and lists the expected ones', async () => {
    const s = await ModelSession.create(addGraph(), { label: 'add graph' });
    await assert.rejects(
      s.run({ x: hostTensor('float32', [1], Float32Array.from([1])), z: hostTensor('float32', [1], Float32Array.from([1])) }),
      (e: Error) => e instanceof SessionInputError && /missing input\(s\) "y"/.test(e.message) && /unknown input\(s\) "z"/.test(e.message) && /expects exactly: "x", "y"/.test(e.message),
    );
    await assert.rejects(s.run({ x: hostTensor('float32', [1], Float32Array.from([1])), y: hostTensor('float32', [1], Float32Array.from([1])) }, ['nope']), /unknown output "nope"/);
    await s.release();
    await assert.rejects(s.run({}), /was released/);
  });

  it('rejects a tensor whose data does not fill its dims', () => {
    assert.throws(() => hostTensor('float32', [2, 2], new Float32Array(3)), /dims \[2, 2\] needs 4 values, got 3/);
  });
});

describe('graph cache', () => {
  it('builds a graph once per key and reuses the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphs-'));
    let builds = 0;
    const build = () => {
      builds++;
      return addGraph();
    };
    const key = { architecture: 'toy', graph: 'add', weightsDigest: 'abc', options: { dtype: 'float32', b: 1 } };
    const first = await cachedGraphPath(key, build, dir);
    const again = await cachedGraphPath({ ...key, options: { b: 1, dtype: 'float32' } }, build, dir);
    assert.equal(first.path, again.path);
    assert.deepEqual([first.built, again.built, builds], [true, false, 1]);
    const other = await cachedGraphPath({ ...key, options: { dtype: 'float64', b: 1 } }, build, dir);
    assert.notEqual(other.path, first.path);
    assert.equal((await readdir(dir)).length, 2);
    const s = await ModelSession.create(first.path);
    assert.deepEqual(s.inputNames, ['x', 'y']);
    await s.release();
    await rm(dir, { recursive: true });
  });

  it('weight digests change with values unless only shapes are hashed', () => {
    const a = new Map([['w', { dims: [2], data: Float32Array.from([1, 2]) }]]);
    const b = new Map([['w', { dims: [2], data: Float32Array.from([1, 3]) }]]);
    assert.notEqual(weightsDigest(a), weightsDigest(b));
    assert.equal(weightsDigest(a, true), weightsDigest(b, true));
  });
});
