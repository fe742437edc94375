import { z } from 'zod';
import { artifactRefSchema } from './artifact-ref.ts';

// Records of the sharded generation stage. Shards are addressed by index under a key prefix, so workflow inputs
// stay small however many shards a corpus has.

export const shardSetSchema = z
  .object({
    prefix: z.string().describe('shard i is stored at `${prefix}/shard-${i padded to 6}.jsonl` (BEIR corpus rows)'),
    count: z.number().int().nonnegative(),
    documents: z.number().int().nonnegative(),
  })
  .strict();
export type ShardSet = z.infer<typeof shardSetSchema>;

export function shardKey(set: Pick<ShardSet, 'prefix'>, index: number): string {
  return `${set.prefix}/shard-${String(index).padStart(6, '0')}.jsonl`;
}

export const shardResultSchema = z
  .object({
    index: z.number().int(),
    documents: z.number().int(),
    generated: z.number().int().describe('documents with a weak query'),
    failed: z.number().int().describe('documents with a recorded failure'),
    weakQueries: artifactRefSchema.describe('queries.jsonl of the weak queries, ids = source document ids'),
    failures: artifactRefSchema.describe('failures.jsonl: {docId, reason}'),
    reused: z.boolean().describe('true when a finished output was found and nothing was generated'),
  })
  .strict();
export type ShardResult = z.infer<typeof shardResultSchema>;

export interface GenerationProgress {
  readonly shardsTotal: number;
  readonly shardsDone: number;
  readonly shardsRunning: readonly number[];
  readonly shardsFailed: readonly number[];
  readonly documentsDone: number;
  readonly generated: number;
  readonly failedDocuments: number;
  readonly paused: boolean;
  readonly documentsPerSecond: number;
  readonly etaSeconds: number | null;
}
