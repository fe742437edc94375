import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unpackFloat32 } from '../../../lib/models/float32-container.ts';
import { deserializeEmbeddings, serializeEmbeddings } from '../../../lib/retrieval/embedding-matrix-file.ts';
import { deserializeCheckpoint, serializeCheckpoint, type TrainableLayout } from '../../../lib/sptar/retriever-checkpoints.ts';
import type { RetrieverCheckpoint } from '../../../lib/sptar/retriever-training.ts';

const layout: TrainableLayout = { names: ['a', 'b'], shapes: new Map([['a', [2]], ['b', [1, 3]]]) };
const f = (...v: number[]) => Float32Array.from(v);
const checkpoint = (bestEpoch: number): RetrieverCheckpoint => ({
  epoch: 2,
  weights: [f(1, 2), f(3, 4, 5)],
  optimizer: { step: 7, m: [f(0.1, 0.2), f(0.3, 0.4, 0.5)], v: [f(1e-3, 2e-3), f(3e-3, 4e-3, 5e-3)] },
  best: { epoch: bestEpoch, devScore: 0.5, weights: bestEpoch === 2 ? [f(1, 2), f(3, 4, 5)] : [f(9, 8), f(7, 6, 5)] },
  curve: [{ epoch: 0, trainLoss: Number.NaN, devScore: 0.1 }, { epoch: 1, trainLoss: 2, devScore: 0.5 }, { epoch: 2, trainLoss: 1, devScore: 0.4 }],
});

describe('retriever artifacts', () => {
  it('a checkpoint reads back as written, with the best weights stored apart only when they differ', () => {
    for (const best of [1, 2]) {
      const bytes = serializeCheckpoint(checkpoint(best), layout);
      assert.deepEqual(deserializeCheckpoint(bytes, 'ckpt', layout), checkpoint(best));
      assert.equal(bytes.byteLength % 4, 0);
    }
    assert.ok(serializeCheckpoint(checkpoint(1), layout).byteLength > serializeCheckpoint(checkpoint(2), layout).byteLength);
  });

  it('a step checkpoint reads back as written, in a format of its own, with or without a best epoch', () => {
    const inside = (best: RetrieverCheckpoint['best']): RetrieverCheckpoint => ({ ...checkpoint(2), best, within: { steps: 5, lossSum: 0.1 + 0.2 } });
    for (const best of [undefined, { epoch: 2, devScore: 0.5, weights: [f(9, 8), f(7, 6, 5)] }]) {
      const bytes = serializeCheckpoint(inside(best), layout);
      const read = deserializeCheckpoint(bytes, 'ckpt', layout);
      assert.deepEqual(read, inside(best));
      // The loss sum survives to the last bit (0.1 + 0.2 is not 0.3).
      assert.equal(read.within!.lossSum, 0.30000000000000004);
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)))) as { format: string };
      assert.equal(header.format, 'sptar-retriever-step-checkpoint@1');
    }
    // Inside an epoch the best weights are stored apart even when the best epoch is the last one ended.
    const withBest = serializeCheckpoint(inside({ epoch: 2, devScore: 0.5, weights: [f(9, 8), f(7, 6, 5)] }), layout).byteLength;
    assert.ok(withBest - serializeCheckpoint(inside(undefined), layout).byteLength >= 5 * 4, 'five more floats');
    // A reader of epoch checkpoints only (the code before step checkpoints) refuses it instead of resuming at its epoch.
    assert.throws(() => unpackFloat32(serializeCheckpoint(inside(undefined), layout), 'ckpt', 'sptar-retriever-checkpoint@1'), {
      name: 'CorruptArtifactError',
      message: /format is "sptar-retriever-step-checkpoint@1", expected sptar-retriever-checkpoint@1/,
    });
  });

  it('refuses a checkpoint of another model and a truncated file', () => {
    const bytes = serializeCheckpoint(checkpoint(1), layout);
    assert.throws(() => deserializeCheckpoint(bytes, 'ckpt', { names: ['a', 'b'], shapes: new Map([['a', [2]], ['b', [3]]]) }), { name: 'CorruptArtifactError', message: /^ckpt: checkpoint tensors do not match/ });
    assert.throws(() => deserializeCheckpoint(bytes.subarray(0, bytes.byteLength - 4), 'ckpt', layout), { name: 'CorruptArtifactError', message: /^ckpt: header describes \d+ bytes, the file has \d+/ });
    assert.throws(() => deserializeEmbeddings(bytes, 'ckpt'), { name: 'CorruptArtifactError', message: /format is "sptar-retriever-checkpoint@1", expected sptar-embeddings@1/ });
  });

  it('corpus embeddings read back as written', () => {
    const m = { ids: ['d1', 'd2'], dim: 2, data: f(0.6, 0.8, 1, 0) };
    assert.deepEqual(deserializeEmbeddings(serializeEmbeddings(m), 'emb'), m);
  });
});
