import { z } from 'zod';

// The one definition of the pipeline configuration. The TypeScript type is inferred from it; it is parsed at the
// edge (CLI, UI input) and again as the workflow's first step. Defaults are the SPTAR authors' values.

const modelSource = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('file').describe('Real pretrained weights from a file or folder installed by infra/install.sh'),
      path: z.string().min(1).describe('GGUF file (LLM) or a folder with model.safetensors + config.json + tokenizer.json'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('tiny').describe('A seeded tiny random model of the same architecture, for tests and dry runs'),
      architecture: z.enum(['llama', 'gpt2', 'bert']),
      seed: z.number().int().default(7),
      tokenizer: z
        .string()
        .optional()
        .describe('tokenizer.json whose vocabulary the tiny model uses (default: GPT-2 for decoders, the installed MiniLM for BERT)'),
    })
    .strict(),
]);

export const pipelineConfigSchema = z
  .object({
    runName: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).default('scifact').describe('Prefix of workflow ids and artifact keys'),
    mode: z.enum(['full', 'incremental']).default('full').describe('incremental augments only documents new or changed since the last successful run'),
    seed: z.number().int().default(13).describe('Seed of every random choice: splits, groups, sampling, initialisation'),
    reuseArtifacts: z.boolean().default(true).describe('Reuse finished stage artifacts with the same input hash'),
    augment: z.boolean().default(true).describe('false skips the LLM stages (prompt tuning, filter, generation): baselines only'),
    dataset: z
      .object({
        name: z.string().min(1).default('scifact'),
        path: z.string().min(1).default('../shared/data/scifact').describe('BEIR folder: corpus.jsonl, queries.jsonl, qrels/'),
        trainQrels: z.string().default('qrels/train.tsv').describe('Source of S_train and S_eval'),
        testQrels: z.string().default('qrels/test.tsv').describe('Used only for evaluation'),
        onBadRow: z.enum(['fail', 'skip']).default('fail').describe('skip: malformed rows are counted and written to a rejects file'),
      })
      .strict()
      .prefault({}),
    splits: z
      .object({
        trainPairs: z.number().int().positive().default(50).describe('X: labeled pairs for prompt tuning (S_train)'),
        evalQueries: z.number().int().positive().default(100).describe('Y: queries for early stopping and the filter (S_eval)'),
        unlabeledLimit: z.number().int().positive().nullable().default(null).describe('Cap on D_unlabeled; null = every unjudged document'),
      })
      .strict()
      .prefault({}),
    llm: modelSource.default({ kind: 'file', path: 'models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf' }),
    encoder: modelSource.default({ kind: 'file', path: 'models/all-minilm-l6-v2' }),
    promptTuning: z
      .object({
        promptLength: z.number().int().positive().default(50).describe('l: virtual tokens in the soft prompt'),
        initText: z.string().min(1).default('please generate query for this document'),
        learningRate: z.number().positive().default(3e-2),
        maxEpochs: z.number().int().positive().default(100),
        patience: z.number().int().positive().default(6).describe('Epochs without S_eval improvement before stopping'),
        examplesPerPrompt: z.number().int().nonnegative().default(2).describe('M: example pairs in the template'),
        maxDocumentWords: z.number().int().positive().default(200).describe('Documents are cut to this many words in every prompt'),
        maxQueryWords: z.number().int().positive().default(48),
        evalBatchSize: z.number().int().positive().default(4).describe('S_eval items per loss evaluation run'),
      })
      .strict()
      .prefault({}),
    exampleFilter: z
      .object({
        groups: z.number().int().positive().default(20).describe('G: candidate example groups, evaluated in parallel'),
      })
      .strict()
      .prefault({}),
    generation: z
      .object({
        shardSize: z.number().int().positive().default(250).describe('Documents per shard (one child workflow each)'),
        maxConcurrentShards: z.number().int().positive().default(4),
        batchSize: z.number().int().positive().default(8).describe('Documents decoded together'),
        maxNewTokens: z.number().int().positive().default(128),
        prefixCache: z.boolean().default(true).describe('Compute soft prompt + examples key/values once per run'),
        heartbeatTimeoutSeconds: z
          .number()
          .int()
          .positive()
          .default(300)
          .describe(
            'A model activity (prompt tuning, group scoring, a generation shard, retriever training, dense evaluation) whose worker sends no heartbeat for this long is retried elsewhere; must exceed the longest model load or graph build on the slowest model worker',
          ),
      })
      .strict()
      .prefault({}),
    weakFilter: z
      .object({
        backend: z.enum(['compact', 'lunr']).default('compact'),
        topK: z.number().int().positive().default(70).describe('Keep a pair iff its document is in the top-k for its query'),
        k1: z.number().positive().default(0.9),
        b: z.number().min(0).max(1).default(0.4),
      })
      .strict()
      .prefault({}),
    retriever: z
      .object({
        enabled: z.boolean().default(true).describe('false stops after the weak data: no dense retriever is trained or evaluated'),
        epochs: z.number().int().positive().default(20),
        batchSize: z.number().int().min(2).default(32),
        learningRate: z.number().positive().default(2e-5),
        weightDecay: z.number().nonnegative().default(0.01),
        warmupFraction: z.number().min(0).max(1).default(0.1),
        maxGradNorm: z.number().positive().default(1.0),
        similarityScale: z.number().positive().default(20),
        maxSequenceLength: z.number().int().positive().default(256),
        devFraction: z.number().gt(0).lt(1).default(0.2).describe('Share of labeled queries held out for epoch selection'),
        selectStartingEncoder: z
          .boolean()
          .default(false)
          .describe('true lets the starting encoder (epoch 0) win the epoch selection; false selects among trained epochs, as the authors do'),
        devCorpusSize: z
          .number()
          .int()
          .positive()
          .nullable()
          .default(null)
          .describe('Documents the dev queries search each epoch: their judged documents plus a seeded sample; null = the whole corpus'),
        weakSchedule: z
          .enum(['mixed', 'weak-first'])
          .default('mixed')
          .describe(
            "How weak pairs meet labeled ones: 'mixed' shuffles labeled and weak pairs together for every epoch (the authors' recipe); 'weak-first' trains weakEpochs on the weak pairs, then the configured epochs on the labeled pairs from that encoder",
          ),
        weakEpochs: z.number().int().positive().default(1).describe("Epochs over the weak pairs before the labeled epochs (weakSchedule 'weak-first' only)"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;

/** Each problem as `path: expected ..., got ...`, one per line, for people reading the UI or a terminal. */
export function formatConfigIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      // The message already names the unknown keys; the whole object would only add noise.
      if (issue.code === 'unrecognized_keys') return `${path}: ${issue.message}`;
      const got = describeValue(valueAt(input, issue.path));
      return `${path}: ${issue.message} (got ${got})`;
    })
    .join('\n');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export type ConfigParseResult = { ok: true; config: PipelineConfig } | { ok: false; message: string };

export function parsePipelineConfig(input: unknown): ConfigParseResult {
  const parsed = pipelineConfigSchema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, message: `invalid pipeline config:\n${formatConfigIssues(parsed.error, input)}` };
}
