import { z } from 'zod';
import { artifactRefSchema } from './artifact-ref.ts';
import { shardSetSchema } from './generation-types.ts';

// Stage names and the records stages exchange through Temporal: only references, counts and metrics.

export const STAGES = ['validate', 'prepare', 'bm25', 'tune-prompt', 'filter-examples', 'generate-sptar', 'generate-inpars', 'train-retrievers', 'evaluate', 'report', 'done'] as const;
export type Stage = (typeof STAGES)[number];

export const preparedDataSchema = z
  .object({
    datasetFingerprint: z.string().describe('sha256 over the corpus, queries and qrels files'),
    corpus: artifactRefSchema.describe('corpus.jsonl as read (after rejects)'),
    sTrain: artifactRefSchema.describe('labeled pairs for prompt tuning, qrels TSV'),
    sEval: artifactRefSchema.describe('labeled pairs for early stopping and the example filter, qrels TSV'),
    testQrels: artifactRefSchema,
    queries: artifactRefSchema,
    unlabeled: shardSetSchema.describe('D_unlabeled as shards of BEIR corpus rows'),
    docHashes: artifactRefSchema.describe('TSV docId -> sha256 of title + text, for incremental runs'),
    rejects: artifactRefSchema.nullable().describe('rows skipped with dataset.onBadRow = skip, with file, line and reason'),
    counts: z.object({
      documents: z.number().int(),
      queries: z.number().int(),
      sTrainPairs: z.number().int(),
      sEvalQueries: z.number().int(),
      testQueries: z.number().int(),
      unlabeledDocuments: z.number().int(),
      unchangedSinceLastRun: z.number().int().describe('incremental mode: unjudged documents skipped because their content hash is unchanged'),
      rejectedRows: z.number().int(),
    }),
  })
  .strict();
export type PreparedData = z.infer<typeof preparedDataSchema>;

/** What the last successful run of a run name left for the next incremental run. */
export const lastSuccessSchema = z.object({
  runId: z.string(),
  finishedAt: z.string(),
  docHashes: artifactRefSchema,
  /** Kept weak pairs of this run and the earlier runs it merged, newest first. */
  keptPairs: z.array(z.object({ system: z.enum(['sptar', 'inpars']), ref: artifactRefSchema })),
  /** The retriever in service: replaced by a newer run's only when that one's dev score is not worse. */
  promoted: z
    .object({
      runId: z.string(),
      system: z.enum(['wo', 'inpars', 'sptar']),
      encoder: artifactRefSchema,
      encoderConfig: artifactRefSchema,
      devScore: z.number(),
      hybrid: z.object({ denseWeight: z.number().min(0).max(1) }).optional().describe("Present: what is served is BM25 fused with this encoder at this dense weight (min-max normalised scores)"),
      dev: z
        .object({ queryIds: z.array(z.string()), ndcg10: z.array(z.number()) })
        .optional()
        .describe('Per-query dev nDCG@10 of what is served: the paired test of the next run compares against it'),
    })
    .optional(),
});
export type LastSuccess = z.infer<typeof lastSuccessSchema>;

export const metricsSchema = z.object({
  ndcg10: z.number(),
  map100: z.number(),
  recall100: z.number(),
  mrr10: z.number(),
  queries: z.number().int(),
});
export type Metrics = z.infer<typeof metricsSchema>;

export const systemEvaluationSchema = z.object({
  system: z.enum(['bm25', 'zero-shot', 'wo', 'inpars', 'sptar']),
  metrics: metricsSchema,
  run: artifactRefSchema.describe('TREC run file'),
  perQuery: artifactRefSchema.describe('per-query scores (JSON) for significance tests'),
  replicate: z.number().int().nonnegative().optional().describe("The training replicate (retriever.seeds) of the system's retriever; absent = 0"),
  hybrid: z
    .object({ denseWeight: z.number().min(0).max(1).describe("Weight of the dense retriever's min-max normalised scores; BM25's is 1 minus it") })
    .optional()
    .describe('Present: BM25 fused with this system\'s retriever at the weight chosen on the dev queries'),
});
export type SystemEvaluation = z.infer<typeof systemEvaluationSchema>;

/** Weak data of one generation run (SPTAR or InPars-style) after the BM25 filter. */
export interface WeakDataSummary {
  readonly system: 'sptar' | 'inpars';
  readonly generationWorkflowId: string;
  /** Store prefix holding every shard's generated queries, failures and kept pairs. */
  readonly outputPrefix: string;
  readonly generated: number;
  readonly failed: number;
  readonly kept: number;
  readonly keptPairs: z.infer<typeof artifactRefSchema>;
  /** Shards left failed when generation finished (an operator accepted them, or generation.onShardFailure = proceed). */
  readonly shardsFailed?: readonly number[];
  /** Documents of those shards: no weak query, recorded as not done so the next incremental run generates them. */
  readonly documentsMissing?: number;
}

/** Wall-clock span of one pipeline stage, from workflow time. */
export interface StageTiming {
  readonly stage: Stage;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** The promotion gate's decision: the new retriever replaces the one in service only if its dev score is not worse. */
interface GateEntry {
  readonly runId: string;
  readonly system: 'wo' | 'inpars' | 'sptar';
  readonly devScore: number;
  /** The training replicate (retriever.seeds); absent = 0. */
  readonly replicate?: number;
  /** Present: BM25 fused with the retriever at this dense weight. */
  readonly hybrid?: { readonly denseWeight: number };
}

export interface PromotionDecision {
  readonly promoted: boolean;
  readonly candidate: GateEntry;
  /** The retriever in service before this run; null on the first run of a run name. */
  readonly incumbent: GateEntry | null;
  /** Paired test of candidate minus incumbent on per-query dev nDCG@10, when both were scored on the same queries. */
  readonly test?: { readonly meanDifference: number; readonly p: number; readonly queries: number } | null;
  readonly reason?: string;
}

/** The activities of a stage that runs several (one per example group, retriever or evaluated system). */
export interface StageTasks {
  readonly unit: 'groups' | 'retrievers' | 'systems';
  readonly done: number;
  readonly total: number;
}

export interface PipelineProgress {
  readonly stage: Stage;
  /** The stages this run goes through, in order (absent in executions started before it was reported). */
  readonly plan?: readonly Stage[];
  /** Finished and scheduled activities of the current stage when it runs several; their live progress is in the pending activities' heartbeats. */
  readonly stageTasks?: StageTasks;
  /** Child workflow generating weak queries now (query it with `generationProgress` for shard detail). */
  readonly generationWorkflowId?: string;
  /** Present while that child holds failed shards for an operator (`sptar retry` or `sptar accept`). */
  readonly waitingForOperator?: { readonly generationWorkflowId: string; readonly shardsFailed: readonly number[] };
  readonly weakData: readonly WeakDataSummary[];
  /** `record` is the soft-prompt record (per-epoch loss curve, example groups). */
  readonly promptTuning?: {
    readonly bestEpoch: number;
    readonly initialEvalLoss: number;
    readonly bestEvalLoss: number;
    readonly record?: z.infer<typeof artifactRefSchema>;
  };
  readonly exampleGroupLosses?: readonly number[];
  readonly stagesDone: readonly Stage[];
  /** Wall-clock span of every finished stage. */
  readonly timings?: readonly StageTiming[];
  readonly startedAt: string;
  readonly evaluations: readonly SystemEvaluation[];
  /** Dev nDCG@10 of each trained retriever's best epoch. */
  readonly retrievers?: readonly { readonly system: string; readonly bestEpoch: number; readonly bestDevScore: number }[];
  readonly promotion?: PromotionDecision;
  readonly reportKey?: string;
  readonly reportHtmlKey?: string;
}
