import { z } from 'zod';
import { artifactRefSchema } from './artifact-ref.ts';
import { pipelineConfigSchema, type PipelineConfig } from './pipeline-config.ts';

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

export const examplePairSchema = z.object({ document: z.string(), query: z.string() }).strict();
export type ExamplePairRecord = z.infer<typeof examplePairSchema>;

/** What every shard of one generation stage shares: the LLM, the prompt and the decoding settings. */
export const generationSettingsSchema = z
  .object({
    llm: pipelineConfigSchema.shape.llm,
    softPrompt: artifactRefSchema.nullable().describe('Float32 soft prompt (l x hidden), or null for the InPars-style baseline'),
    examples: z
      .union([z.array(examplePairSchema), z.literal('inpars')])
      .describe("The filtered example group, or 'inpars' for the fixed hand-written InPars-style examples"),
    maxDocumentWords: z.number().int().positive().describe('Documents are cut to this many words in the prompt'),
    maxQueryWords: z.number().int().positive().describe('Example queries are cut to this many words'),
    maxNewTokens: z.number().int().positive().describe('Longest weak query in tokens'),
    batchSize: z.number().int().positive().describe('Documents decoded together'),
    prefixCache: z.boolean().describe('Compute the soft prompt + examples key/values once per stage'),
    lengthSortedBatches: z
      .boolean()
      .optional()
      .describe('Batches formed from the shard sorted by prompt length; absent (executions started before the switch) or false: consecutive documents'),
  })
  .strict();
export type GenerationSettings = z.infer<typeof generationSettingsSchema>;

/** The generation settings of one augmentor, from the pipeline config. */
export function generationSettings(config: PipelineConfig, softPrompt: GenerationSettings['softPrompt'], examples: GenerationSettings['examples']): GenerationSettings {
  return {
    llm: config.llm,
    softPrompt,
    examples,
    maxDocumentWords: config.promptTuning.maxDocumentWords,
    maxQueryWords: config.promptTuning.maxQueryWords,
    maxNewTokens: config.generation.maxNewTokens,
    batchSize: config.generation.batchSize,
    prefixCache: config.generation.prefixCache,
    lengthSortedBatches: config.generation.lengthSortedBatches,
  };
}

/** The settings as executions started before `lengthSortedBatches` built them: shard order, and the same stage key. */
export function shardOrderSettings(settings: GenerationSettings): GenerationSettings {
  return Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'lengthSortedBatches')) as GenerationSettings;
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
  /** Present while failed shards wait for an operator: `sptar retry` re-queues them, `sptar accept` goes on without them. */
  readonly waitingForOperator?: true;
  readonly documentsPerSecond: number;
  readonly etaSeconds: number | null;
}
