// The stored forms of prompt tuning's outputs: soft prompts as raw little-endian float32 bytes (l x hidden), and
// epoch checkpoints as JSON with the float arrays as plain number arrays (l x hidden is small).
import { z } from 'zod';
import { CorruptArtifactError } from '../../common/errors.ts';
import type { PromptTuningCheckpoint } from './prompt-tuning.ts';

/** A float32 tensor artifact (a soft prompt) as a Float32Array of its own. */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new CorruptArtifactError('a float32 tensor artifact has a length that is not a multiple of 4');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The bytes to store for a float32 tensor. */
export function float32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

const curveSchema = z.array(z.object({ epoch: z.number(), trainLoss: z.number().nullable(), evalLoss: z.number() }));

/** An epoch checkpoint as stored (JSON). A NaN train loss (epoch 0) is stored as null. */
export const promptTuningCheckpointSchema = z.object({
  epoch: z.number().int(),
  prompt: z.array(z.number()),
  optimizer: z.object({ step: z.number().int(), m: z.array(z.array(z.number())), v: z.array(z.array(z.number())) }),
  best: z.object({ epoch: z.number().int(), evalLoss: z.number(), prompt: z.array(z.number()) }),
  curve: curveSchema,
  epochsWithoutImprovement: z.number().int(),
});
export type StoredPromptTuningCheckpoint = z.infer<typeof promptTuningCheckpointSchema>;

/** The JSON text of an epoch checkpoint. */
export function checkpointJson(c: PromptTuningCheckpoint): string {
  const stored: StoredPromptTuningCheckpoint = {
    epoch: c.epoch,
    prompt: [...c.prompt],
    optimizer: { step: c.optimizer.step, m: c.optimizer.m.map((a) => [...a]), v: c.optimizer.v.map((a) => [...a]) },
    best: { epoch: c.best.epoch, evalLoss: c.best.evalLoss, prompt: [...c.best.prompt] },
    curve: c.curve.map((x) => ({ ...x, trainLoss: Number.isFinite(x.trainLoss) ? x.trainLoss : null })),
    epochsWithoutImprovement: c.epochsWithoutImprovement,
  };
  return JSON.stringify(stored);
}

/** A parsed stored checkpoint, ready to resume from. */
export function checkpointFromJson(c: StoredPromptTuningCheckpoint): PromptTuningCheckpoint {
  return {
    epoch: c.epoch,
    prompt: Float32Array.from(c.prompt),
    optimizer: { step: c.optimizer.step, m: c.optimizer.m.map((a) => Float32Array.from(a)), v: c.optimizer.v.map((a) => Float32Array.from(a)) },
    best: { epoch: c.best.epoch, evalLoss: c.best.evalLoss, prompt: Float32Array.from(c.best.prompt) },
    curve: c.curve.map((x) => ({ ...x, trainLoss: x.trainLoss ?? Number.NaN })),
    epochsWithoutImprovement: c.epochsWithoutImprovement,
  };
}
