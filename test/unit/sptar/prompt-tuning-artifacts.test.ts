import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptArtifactError } from '../../../common/errors.ts';
import { checkpointFromJson, checkpointJson, float32Bytes, float32FromBytes, promptTuningCheckpointSchema } from '../../../lib/sptar/prompt-tuning-artifacts.ts';
import type { PromptTuningCheckpoint } from '../../../lib/sptar/prompt-tuning.ts';

describe('stored forms of prompt tuning', () => {
  it('float32 tensors round-trip through bytes, also from a view into a larger buffer', () => {
    const a = Float32Array.from([1.5, -2.25, 3e-8, 0]);
    assert.deepEqual(float32FromBytes(float32Bytes(a)), a);
    const padded = new Uint8Array(4 + 16);
    padded.set(float32Bytes(a), 4);
    assert.deepEqual(float32FromBytes(padded.subarray(4)), a);
    assert.deepEqual([...float32Bytes(Float32Array.from([1]))], [0, 0, 128, 63]);
    assert.throws(() => float32FromBytes(new Uint8Array(6)), CorruptArtifactError);
  });

  it('an epoch checkpoint round-trips through JSON, epoch 0 train loss (NaN) as null', () => {
    const c: PromptTuningCheckpoint = {
      epoch: 2,
      prompt: Float32Array.from([0.25, -0.5]),
      optimizer: { step: 8, m: [Float32Array.from([0.125, 1])], v: [Float32Array.from([0.0625, 2])] },
      best: { epoch: 1, evalLoss: 1.5, prompt: Float32Array.from([0.5, -1]) },
      curve: [
        { epoch: 0, trainLoss: Number.NaN, evalLoss: 2 },
        { epoch: 1, trainLoss: 1.75, evalLoss: 1.5 },
        { epoch: 2, trainLoss: 1.25, evalLoss: 1.625 },
      ],
      epochsWithoutImprovement: 1,
    };
    const json = checkpointJson(c);
    assert.equal((JSON.parse(json) as { curve: { trainLoss: unknown }[] }).curve[0]!.trainLoss, null);
    assert.deepEqual(checkpointFromJson(promptTuningCheckpointSchema.parse(JSON.parse(json))), c);
  });
});
