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
  })
  .strict();
export type TrainedRetriever = z.infer<typeof trainedRetrieverSchema>;
