import { z } from 'zod';
import { artifactRefSchema } from './artifact-ref.ts';

// Records of the dense-retriever stages: the weak pairs they read and the trained encoder they hand on.

/** One kept weak pair, a JSONL row as the BM25 filter writes it: the generated query and its source document. */
export const weakPairRowSchema = z
  .object({
    queryId: z.string().min(1).describe('Id of the weak query (weak-<docId>)'),
    docId: z.string().min(1).describe('Corpus id of the document the query was generated for'),
    query: z.string().min(1).describe('The generated (weak) query'),
    rank: z.number().int().positive().describe('Rank of the source document for its own query under BM25'),
  })
  .strict();
export type WeakPairRow = z.infer<typeof weakPairRowSchema>;

export const retrieverSystemSchema = z.enum(['wo', 'inpars', 'sptar']).describe('wo: labeled pairs only; inpars/sptar: labeled + that augmentor\'s kept weak pairs');
export type RetrieverSystem = z.infer<typeof retrieverSystemSchema>;

export const devCurvePointSchema = z.object({
  epoch: z.number().int().nonnegative(),
  /** Mean in-batch loss of the epoch; null for epoch 0 (the starting encoder, before any step). */
  trainLoss: z.number().nullable(),
  devScore: z.number().describe('nDCG@10 of the dev queries over the whole corpus'),
});
export type DevCurvePoint = z.infer<typeof devCurvePointSchema>;

export const devOutcomeSchema = z
  .object({
    queryIds: z.array(z.string()).describe('Dev query ids, sorted: the order of every per-query array'),
    ndcg10: z.array(z.number()).describe("nDCG@10 of each dev query under the selected epoch's encoder"),
    fusion: z
      .object({
        denseWeight: z.number().min(0).max(1).describe("Weight of the dense retriever's min-max normalised scores; BM25's is 1 minus it"),
        devScore: z.number().describe('Mean dev nDCG@10 of BM25 fused with the retriever at that weight'),
        ndcg10: z.array(z.number()),
        grid: z.array(z.object({ weight: z.number(), score: z.number() })).describe('Mean dev nDCG@10 at every weight tried'),
      })
      .optional()
      .describe('retriever.hybrid: BM25 fused with this retriever, the dense weight chosen on the dev queries'),
  })
  .strict();
export type DevOutcomeRecord = z.infer<typeof devOutcomeSchema>;

/** What the filters after BM25 did to one system's kept weak pairs, and the copy rates of weak and real queries. */
export const weakRefinementStatsSchema = z
  .object({
    bm25Kept: z.number().int().nonnegative().describe('Pairs in: kept by the BM25 top-k filter'),
    afterCopyFilter: z.number().int().nonnegative(),
    afterDenseRoundTrip: z.number().int().nonnegative(),
    copyRate: z
      .object({
        weak: copyRateSchema().describe('the BM25-kept weak pairs'),
        kept: copyRateSchema().describe('the pairs left after every filter'),
        labeled: copyRateSchema().describe('the labeled queries with their judged documents, for comparison'),
      })
      .strict(),
  })
  .strict();
export type WeakRefinementStats = z.infer<typeof weakRefinementStatsSchema>;

function copyRateSchema() {
  return z
    .object({
      pairs: z.number().int().nonnegative(),
      meanOverlap: z.number().describe("Mean share of a query's words found in its document"),
      meanSpanShare: z.number().describe("Mean share of a query that is its longest verbatim run of the document's words"),
      spanCopyRate: z.number().describe('Share of queries (3+ words) that are one verbatim span of their document'),
    })
    .strict();
}

export const trainedRetrieverSchema = z
  .object({
    system: retrieverSystemSchema,
    encoder: artifactRefSchema.describe('model.safetensors of the best epoch (float32, base-model tensor names)'),
    encoderConfig: artifactRefSchema.describe('config.json beside it, so the pair loads as a HuggingFace BERT folder'),
    curve: z.array(devCurvePointSchema),
    bestEpoch: z.number().int().nonnegative().describe('0 means no epoch beat the starting encoder on the dev queries'),
    bestDevScore: z.number(),
    weakEpochs: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe("Leading epochs of the curve that trained on the weak pairs alone (retriever.weakSchedule 'weak-first'); 0 when labeled and weak pairs were mixed"),
    counts: z.object({
      labeledPairs: z.number().int().describe('labeled training pairs (dev queries excluded)'),
      weakPairs: z.number().int(),
      devQueries: z.number().int(),
    }),
    replicate: z.number().int().nonnegative().optional().describe('Which training of the system this is: replicate r trained with seed + r (retriever.seeds); absent = 0'),
    dev: devOutcomeSchema.optional().describe("The dev queries under the selected epoch's encoder (absent in results stored before it was recorded)"),
    negatives: artifactRefSchema.optional().describe('The mined hard negatives, JSONL rows {queryKey, negatives} (retriever.hardNegatives > 0)'),
    weakFilters: weakRefinementStatsSchema.optional().describe('Retention of the weak pairs through each filter after BM25'),
  })
  .strict();
export type TrainedRetriever = z.infer<typeof trainedRetrieverSchema>;
