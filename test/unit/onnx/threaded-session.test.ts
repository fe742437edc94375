// A ModelSession in a worker thread must be indistinguishable from one on the calling thread: the same outputs
// bit for bit on a tiny decoder, the same error messages, and inputs left intact unless handed over.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDecoderStepGraph, DECODER_NAMES } from '../../../lib/models/decoder-graphs.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';
import { tinyLlama } from '../../../lib/models/tiny-models.ts';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.ts';
import * as op from '../../../lib/onnx/ops.ts';
import { ModelSession, SessionInputError, hostTensor, type HostTensor } from '../../../lib/onnx/session.ts';

function addGraph(): Uint8Array {
  const b = new GraphBuilder('add');
  const x = b.input('x', 'float32', ['n']);
  const y = b.input('y', 'float32', ['n']);
  b.output(op.add(b, x, y), 'sum');
  return b.toBytes();
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('ModelSession in a worker thread', () => {
  it('returns exactly the outputs of the in-thread session on a tiny decoder step', async () => {
    const tiny = tinyLlama(7);
    const cfg = tiny.config;
    const bytes = buildDecoderStepGraph(tiny.weights, cfg, { logits: 'all' }).toBytes();
    const local = await ModelSession.create(bytes, { label: 'tiny step', intraOpThreads: 1 });
    const threaded = await ModelSession.create(bytes, { label: 'tiny step', intraOpThreads: 1, worker: true });
    try {
      assert.deepEqual(threaded.inputNames, local.inputNames);
      assert.deepEqual(threaded.outputNames, local.outputNames);
      const rng = new Mulberry32(3);
      const batch = 2;
      const seq = 3;
      const past = 2;
      const feeds: Record<string, HostTensor> = {
        [DECODER_NAMES.inputsEmbeds]: hostTensor('float32', [batch, seq, cfg.hiddenSize], rng.floats(batch * seq * cfg.hiddenSize, 1)),
        [DECODER_NAMES.attentionMask]: hostTensor('int64', [batch, past + seq], BigInt64Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1], BigInt)),
        [DECODER_NAMES.positionIds]: hostTensor('int64', [batch, seq], BigInt64Array.from([2, 3, 4, 1, 2, 3], BigInt)),
      };
      for (let i = 0; i < cfg.numLayers; i++) {
        const dims = [batch, cfg.numKvHeads, past, cfg.headDim];
        const n = dims.reduce((a, c) => a * c, 1);
        feeds[DECODER_NAMES.pastKey(i)] = hostTensor('float32', dims, rng.floats(n, 1));
        feeds[DECODER_NAMES.pastValue(i)] = hostTensor('float32', dims, rng.floats(n, 1));
      }
      const expected = await local.run(feeds);
      const got = await threaded.run(feeds);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort());
      for (const [name, t] of Object.entries(expected)) {
        assert.deepEqual(got[name]?.dims, t.dims, name);
        assert.deepEqual(got[name]?.data, t.data, name);
      }
      // A subset of outputs, as in-thread.
      const logitsOnly = await threaded.run(feeds, [DECODER_NAMES.logits]);
      assert.deepEqual(Object.keys(logitsOnly), [DECODER_NAMES.logits]);
      assert.deepEqual(logitsOnly[DECODER_NAMES.logits]?.data, expected[DECODER_NAMES.logits]?.data);
    } finally {
      await local.release();
      await threaded.release();
    }
  });

  it('copies inputs by default and detaches them only when they are handed over', async () => {
    const s = await ModelSession.create(addGraph(), { label: 'add graph', worker: true });
    try {
      const x = Float32Array.from([1, 2, 3]);
      const y = Float32Array.from([10, 20, 30, 40]).subarray(1);
      const out = await s.run({ x: hostTensor('float32', [3], x), y: hostTensor('float32', [3], y) });
      assert.deepEqual(Array.from(out.sum?.data as Float32Array), [21, 32, 43]);
      assert.deepEqual([x.length, y.length], [3, 3]);
      const handed = await s.run({ x: hostTensor('float32', [3], x), y: hostTensor('float32', [3], y) }, undefined, { transferInputs: true });
      assert.deepEqual(Array.from(handed.sum?.data as Float32Array), [21, 32, 43]);
      // x owned its buffer and moved to the worker; y is a view into a larger buffer, so it was copied instead.
      assert.deepEqual([x.length, y.length], [0, 3]);
      // Named inputs only: z moves, w (owning its buffer too) is copied.
      const z = Float32Array.from([1, 2, 3]);
      const w = Float32Array.from([5, 5, 5]);
      const named = await s.run({ x: hostTensor('float32', [3], z), y: hostTensor('float32', [3], w) }, undefined, { transferInputs: ['x'] });
      assert.deepEqual(Array.from(named.sum?.data as Float32Array), [6, 7, 8]);
      assert.deepEqual([z.length, w.length], [0, 3]);
    } finally {
      await s.release();
    }
  });

  it('surfaces the same errors as the in-thread session', async () => {
    const local = await ModelSession.create(addGraph(), { label: 'add graph' });
    const threaded = await ModelSession.create(addGraph(), { label: 'add graph', worker: true });
    const cases: Record<string, HostTensor>[] = [
      { x: hostTensor('float32', [1], Float32Array.from([1])), z: hostTensor('float32', [1], Float32Array.from([1])) },
      // Shapes that do not broadcast: onnxruntime itself fails the run.
      { x: hostTensor('float32', [3], Float32Array.from([1, 2, 3])), y: hostTensor('float32', [2], Float32Array.from([1, 2])) },
    ];
    for (const feeds of cases) {
      const a = await rejection(local.run(feeds));
      const b = await rejection(threaded.run(feeds));
      assert.equal(b.message, a.message);
      assert.equal(b.name, a.name);
    }
    assert.ok(await rejection(threaded.run(cases[0] as Record<string, HostTensor>)) instanceof SessionInputError);
    assert.match((await rejection(threaded.run(cases[1] as Record<string, HostTensor>))).message, /add graph: run failed: .*Add/);
    await local.release();
    await threaded.release();
    await assert.rejects(threaded.run({}), /Session add graph was released/);
    const garbage = Uint8Array.from([1, 2, 3, 4]);
    const loadLocal = await rejection(ModelSession.create(garbage, { label: 'garbage model' }));
    const loadThreaded = await rejection(ModelSession.create(garbage, { label: 'garbage model', worker: true }));
    assert.match(loadLocal.message, /^onnxruntime could not load garbage model: /);
    assert.equal(loadThreaded.message, loadLocal.message);
  });
});
