import { z } from 'zod';
import type { ArtifactRef } from './artifact-ref.ts';
import { examplePairSchema } from './generation-types.ts';

// Records of the prompt-tuning stage and the example filter, as stored next to their artifacts and returned to the
// workflow. The tuning activity writes the record, the report and the benchmarks read it.

/** What a prompt-tuning run stores beside the soft prompt (`soft-prompt.json`). */
export const softPromptRecordSchema = z.object({
  promptLength: z.number().int(),
  hiddenSize: z.number().int(),
  bestEpoch: z.number().int(),
  bestEvalLoss: z.number(),
  initialEvalLoss: z.number(),
  stoppedEarly: z.boolean(),
  curve: z.array(z.object({ epoch: z.number(), trainLoss: z.number().nullable(), evalLoss: z.number() })),
  /** Candidate example groups for the filter: indices into S_train. */
  groups: z.array(z.array(z.number().int())),
});
export type SoftPromptRecord = z.infer<typeof softPromptRecordSchema>;

/** The prompt-tuning activity's result: the stored soft prompt and record, and the groups the filter scores. */
export interface TunedPrompt {
  readonly prompt: ArtifactRef;
  readonly record: ArtifactRef;
  readonly bestEpoch: number;
  readonly bestEvalLoss: number;
  readonly initialEvalLoss: number;
  readonly groups: number[][];
}

/** One candidate example group's mean S_eval loss, as stored for reuse. */
export const scoredExampleGroupSchema = z
  .object({
    group: z.array(z.number().int().nonnegative()),
    loss: z.number(),
    examples: z.array(examplePairSchema),
  })
  .strict();
export type ScoredExampleGroup = z.infer<typeof scoredExampleGroupSchema>;
