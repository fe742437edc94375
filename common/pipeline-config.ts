import { z } from 'zod';

// The one definition of the pipeline configuration. The TypeScript type is inferred from it; it is parsed at the
// edge (CLI, UI input) and again as the workflow's first step. Defaults are the SPTAR authors' values.

/** Seconds without a heartbeat before a model activity counts as lost; one default for every model activity. */
export const DEFAULT_MODEL_HEARTBEAT_SECONDS = 300;

// Upper bounds of sizes and counts: far above any real run (corpora of 10M documents, runs of days), low enough that
// a slip (1e6 example groups, a shard of 1e9 documents) is refused here, before it schedules work or allocates.
/** Seeds are folded into 32 bits: any signed or unsigned 32-bit integer. */
const SEED_MIN = -(2 ** 31);
const SEED_MAX = 2 ** 32 - 1;
/** Documents of a corpus or a sample of one: ten times a 10M-document corpus. */
const MAX_DOCUMENTS = 100_000_000;
/** Characters of a file path (Linux's PATH_MAX). */
const MAX_PATH_CHARS = 4096;

/**
 * Whether `path` names something below the folder it is relative to: not absolute (POSIX, UNC or a Windows drive)
 * and no `..` climbing above its start. Plain string logic, since the schema also runs in the workflow sandbox.
 */
export function isPathInsideFolder(path: string): boolean {
  if (path.includes('\0') || /^[\\/]/.test(path) || /^[A-Za-z]:/.test(path)) return false;
  let depth = 0;
  for (const segment of path.split(/[\\/]+/)) {
    if (segment === '' || segment === '.') continue;
    depth += segment === '..' ? -1 : 1;
    if (depth < 0) return false;
  }
  return depth > 0;
}

const pathInsideDataset = z
  .string()
  .min(1)
  .max(MAX_PATH_CHARS)
  .refine(isPathInsideFolder, "expected a file path relative to dataset.path that stays inside it (no absolute path, no '..' above it)");

const modelSource = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('file').describe('Real pretrained weights from a file or folder installed by infra/install.sh'),
      path: z.string().min(1).max(MAX_PATH_CHARS).describe('GGUF file (LLM) or a folder with model.safetensors + config.json + tokenizer.json'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('tiny').describe('A seeded tiny random model of the same architecture, for tests and dry runs'),
      architecture: z
        .enum(['llama', 'gpt2', 'bert'])
        .describe("Architecture of the tiny model: 'llama' or 'gpt2' for the LLM, 'bert' for the encoder"),
      seed: z.number().int().min(SEED_MIN).max(SEED_MAX).default(7).describe("Seed of the tiny model's random weights: the same seed gives the same weights"),
      tokenizer: z
        .string()
        .min(1)
        .max(MAX_PATH_CHARS)
        .optional()
        .describe('tokenizer.json whose vocabulary the tiny model uses (default: GPT-2 for decoders, the installed MiniLM for BERT)'),
    })
    .strict(),
]);

export const pipelineConfigSchema = z
  .object({
    runName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .default('scifact')
      .describe(
        'Prefix of workflow ids and artifact keys (lowercase letters, digits and dashes, at most 63 characters); runs with the same name share reusable artifacts and the last-success record that incremental mode reads',
      ),
    mode: z
      .enum(['full', 'incremental'])
      .default('full')
      .describe(
        "'full' augments every document of D_unlabeled; 'incremental' leaves out unjudged documents whose content hash (sha256 of title and text) is unchanged since the last successful run of this runName (a full run when there is none)",
      ),
    seed: z
      .number()
      .int()
      .min(SEED_MIN)
      .max(SEED_MAX)
      .default(13)
      .describe('Seed of every random choice of the pipeline: splits, example groups, training order, dev split and dev corpus sample, report samples and significance tests'),
    reuseArtifacts: z
      .boolean()
      .default(true)
      .describe('true reuses a finished stage artifact whose inputs and settings hash the same (also across runs of this runName); false keys every artifact by the workflow id, so everything is computed again'),
    augment: z.boolean().default(true).describe('false skips the LLM stages (prompt tuning, example filter, weak query generation): baselines only'),
    dataset: z
      .object({
        name: z.string().min(1).max(200).default('scifact').describe('Name of the dataset in the SptarDataset search attribute, memos and the report; not a path'),
        path: z
          .string()
          .min(1)
          .max(MAX_PATH_CHARS)
          .default('data/scifact')
          .describe(
            "BEIR folder holding corpus.jsonl, queries.jsonl and the qrels files; a relative path resolves against the working directory. When it does not exist and dataset.name is a dataset sptar can fetch ('sptar data list'), 'sptar start' downloads, verifies and unpacks it there first",
          ),
        trainQrels: pathInsideDataset
          .default('qrels/train.tsv')
          .describe('Train qrels TSV, relative to dataset.path: its queries with a relevant document and not in the test qrels are the pool S_train and S_eval are drawn from'),
        testQrels: pathInsideDataset
          .default('qrels/test.tsv')
          .describe('Test qrels TSV, relative to dataset.path: used only for the final evaluation; its judged documents are never augmented'),
        onBadRow: z
          .enum(['fail', 'skip'])
          .default('fail')
          .describe("'fail' stops at the first malformed row of any dataset file; 'skip' counts malformed rows and writes them, with file, line and reason, to a rejects file"),
      })
      .strict()
      .prefault({}),
    splits: z
      .object({
        trainPairs: z
          .number()
          .int()
          .positive()
          .max(100_000)
          .default(50)
          .describe('X: labeled (query, document) pairs in S_train, one per query, seeded draw; the prompt is tuned on them and example groups are drawn from them'),
        evalQueries: z
          .number()
          .int()
          .positive()
          .max(100_000)
          .default(100)
          .describe('Y: further labeled queries in S_eval, each with all its relevant documents; their loss drives early stopping and the example filter'),
        unlabeledLimit: z
          .number()
          .int()
          .positive()
          .max(MAX_DOCUMENTS)
          .nullable()
          .default(null)
          .describe('Most documents in D_unlabeled (documents judged in no qrels): a seeded sample of this many; null = every unjudged document'),
      })
      .strict()
      .prefault({}),
    llm: modelSource
      .default({ kind: 'file', path: 'models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf' })
      .describe('The frozen decoder LLM whose soft prompt is tuned and which writes the weak queries (llama or gpt2)'),
    encoder: modelSource
      .default({ kind: 'file', path: 'models/all-minilm-l6-v2' })
      .describe('The BERT encoder the dense retrievers start from and fine-tune'),
    promptTuning: z
      .object({
        promptLength: z.number().int().positive().max(1024).default(50).describe('l: virtual tokens (embedding vectors) in the soft prompt put before every prompt'),
        initText: z
          .string()
          .min(1)
          .max(10_000)
          .default('please generate query for this document')
          .describe('Text whose token embeddings initialise the soft prompt, repeated or cut to its l rows'),
        learningRate: z
          .number()
          .positive()
          .default(3e-2)
          .describe('Peak AdamW learning rate of the soft prompt, decayed linearly to 0 over maxEpochs x |S_train| steps (no warm-up, one pair per step)'),
        maxEpochs: z.number().int().positive().max(1000).default(100).describe('Most epochs (passes over S_train) of prompt tuning; early stopping may end it sooner'),
        patience: z
          .number()
          .int()
          .positive()
          .max(1000)
          .default(6)
          .describe("Epochs without a lower mean S_eval loss before prompt tuning stops; the best epoch's prompt is kept"),
        examplesPerPrompt: z
          .number()
          .int()
          .nonnegative()
          .max(32)
          .default(2)
          .describe('M: example (document, query) pairs from S_train in each prompt, for tuning, the example filter and generation'),
        maxDocumentWords: z
          .number()
          .int()
          .positive()
          .max(10_000)
          .default(200)
          .describe('Every document in a prompt (examples and the target document) is cut to this many words, for tuning and generation'),
        maxQueryWords: z
          .number()
          .int()
          .positive()
          .max(1000)
          .default(48)
          .describe('Example queries in a prompt, and the target query of each prompt-tuning item, are cut to this many words'),
        evalBatchSize: z
          .number()
          .int()
          .positive()
          .max(256)
          .default(4)
          .describe('S_eval items per run of the loss graph when computing a mean S_eval loss (early stopping and example groups); larger batches take more memory'),
      })
      .strict()
      .prefault({}),
    exampleFilter: z
      .object({
        groups: z
          .number()
          .int()
          .positive()
          .max(1000)
          .default(20)
          .describe('G: seeded candidate groups of M S_train examples, each scored in parallel by the mean S_eval loss with the tuned prompt; the lowest-loss group is used for generation'),
      })
      .strict()
      .prefault({}),
    generation: z
      .object({
        shardSize: z
          .number()
          .int()
          .positive()
          .max(1_000_000)
          .default(250)
          .describe('Documents of D_unlabeled per generation shard (the last one fewer); each shard is one child workflow'),
        maxConcurrentShards: z.number().int().positive().max(1000).default(4).describe('Most generation shard child workflows running at once'),
        batchSize: z.number().int().positive().max(512).default(8).describe('Documents whose weak queries are decoded together in one batch'),
        maxNewTokens: z.number().int().positive().max(2048).default(128).describe('Longest weak query, in tokens: decoding stops after this many new tokens if no EOS or stop token came first'),
        prefixCache: z
          .boolean()
          .default(true)
          .describe('true computes the key/values of the soft prompt + examples prefix once and reuses them for every batch; false runs the prefix again with each batch'),
        lengthSortedBatches: z
          .boolean()
          .default(true)
          .describe(
            "true forms a shard's batches from its documents sorted by prompt length in tokens (ties in shard order), so a batch's prompts are padded to about their own length rather than to the longest of consecutive documents; outputs are written in shard order either way. false decodes consecutive documents together. Part of the generation stage's key",
          ),
        heartbeatTimeoutSeconds: z
          .number()
          .int()
          .positive()
          .max(86_400)
          .default(DEFAULT_MODEL_HEARTBEAT_SECONDS)
          .describe(
            'Seconds: a model activity (prompt tuning, group scoring, a generation shard, retriever training, dense evaluation) whose worker sends no heartbeat for this long is retried elsewhere; must exceed the longest model load or graph build on the slowest model worker',
          ),
        onShardFailure: z
          .enum(['wait', 'proceed'])
          .default('wait')
          .describe(
            "A shard that still fails after its retries (about an hour): 'wait' holds the run, visibly (stage '<stage>:waiting-for-operator', `sptar status`), until `sptar retry` re-queues it or `sptar accept` goes on without it; 'proceed' goes on at once. Either way the documents of shards left failed are recorded as not done, so the next incremental run generates them, and the report and the run's result count them (weakData[].shardsFailed, documentsMissing)",
          ),
      })
      .strict()
      .prefault({}),
    promotion: z
      .object({
        allowMissingShards: z
          .boolean()
          .default(false)
          .describe('false: a run whose generation left failed shards (documents without weak queries) never replaces the retriever in service; true: the gate decides on dev scores alone'),
      })
      .strict()
      .prefault({}),
    weakFilter: z
      .object({
        backend: z
          .enum(['compact', 'lunr'])
          .default('compact')
          .describe("BM25 implementation of the index used by the weak filter and the BM25 baseline: 'compact' scales to millions of documents; 'lunr' is the reference library, for small corpora"),
        topK: z
          .number()
          .int()
          .positive()
          .max(10_000)
          .default(70)
          .describe('Keep a weak (query, document) pair iff BM25 ranks its document in the top k for the weak query'),
        k1: z.number().positive().default(0.9).describe('BM25 k1 (term-frequency saturation) of the index used by the weak filter and the BM25 baseline'),
        b: z.number().min(0).max(1).default(0.4).describe('BM25 b (document-length normalisation, 0 = none, 1 = full) of the same index'),
        maxOverlap: z
          .number()
          .min(0)
          .max(1)
          .nullable()
          .default(null)
          .describe("Copy filter, after BM25: drop a kept pair whose query has more than this share of its words in the source document; null = no limit. SciFact's real claims average 0.59"),
        maxSpanShare: z
          .number()
          .min(0)
          .max(1)
          .nullable()
          .default(null)
          .describe('Copy filter, after BM25: drop a kept pair whose longest run of words copied verbatim from the source document is more than this share of the query; null = no limit'),
        denseTopK: z
          .number()
          .int()
          .positive()
          .max(1000)
          .nullable()
          .default(null)
          .describe('Dense round-trip filter, after the copy filter: keep a pair only if the starting encoder ranks its source document in the top k of the whole corpus for its query; null = off'),
      })
      .strict()
      .prefault({}),
    retriever: z
      .object({
        enabled: z.boolean().default(true).describe('false stops after the weak data: no dense retriever is trained or evaluated'),
        epochs: z
          .number()
          .int()
          .positive()
          .max(1000)
          .default(20)
          .describe("Training epochs (passes over the training pairs); with weakSchedule 'weak-first', the epochs over the labeled pairs"),
        batchSize: z
          .number()
          .int()
          .min(2)
          .max(1024)
          .default(32)
          .describe('(query, document) pairs per training step; the other documents of a batch are the in-batch negatives, so no batch repeats a query or a document'),
        learningRate: z.number().positive().default(2e-5).describe('Peak AdamW learning rate, reached after the warm-up and then decayed linearly to 0 at the last step'),
        weightDecay: z.number().nonnegative().default(0.01).describe('AdamW decoupled weight decay: each step also subtracts learning rate x weightDecay x weight'),
        warmupFraction: z
          .number()
          .min(0)
          .max(1)
          .default(0.1)
          .describe('Share of all training steps over which the learning rate rises linearly from 0 to learningRate'),
        maxGradNorm: z.number().positive().default(1.0).describe('Gradients are scaled down so their global L2 norm is at most this before each step'),
        checkpointEverySteps: z
          .number()
          .int()
          .positive()
          .max(1_000_000)
          .nullable()
          .default(16)
          .describe(
            'Optimizer steps between the checkpoints stored inside an epoch, so a retried training goes on from the last of them instead of the epoch start (16: about 3.5 minutes of MiniLM training at batch 32 on 2 cores, one ~350 MB checkpoint write each); null = a checkpoint per epoch only. Does not change what is trained, so it is not part of the stage key',
          ),
        similarityScale: z
          .number()
          .positive()
          .default(20)
          .describe('Factor on the query-document cosine similarities before the softmax cross-entropy over in-batch negatives (an inverse temperature)'),
        inferencePrecision: z
          .enum(['fp32', 'int8'])
          .default('fp32')
          .describe(
            "Arithmetic of the encoder's Linear layers when it only encodes (test evaluation, the dense weak filter, the dev search of each epoch): 'fp32' float throughout; 'int8' weights quantized per output channel and inputs per tensor at run time (embeddings, LayerNorm, softmax and pooling stay float32); training always computes in float32",
          ),
        maxSequenceLength: z
          .number()
          .int()
          .positive()
          .max(8192)
          .default(256)
          .describe("Tokens per query or document fed to the encoder, [CLS] and [SEP] included; longer texts are truncated; capped at the encoder's maximum positions"),
        devFraction: z
          .number()
          .gt(0)
          .lt(1)
          .default(0.2)
          .describe('Share of the labeled queries (S_train and S_eval) held out, seeded, as dev queries for epoch selection by nDCG@10; at least one query, never all'),
        selectStartingEncoder: z
          .boolean()
          .default(false)
          .describe('true lets the starting encoder (epoch 0) win the epoch selection; false selects among trained epochs, as the authors do'),
        devCorpusSize: z
          .number()
          .int()
          .positive()
          .max(MAX_DOCUMENTS)
          .nullable()
          .default(null)
          .describe('Documents the dev queries search each epoch (their judged documents plus a seeded sample of the others, this many in all); null = the whole corpus'),
        weakSchedule: z
          .enum(['mixed', 'weak-first'])
          .default('mixed')
          .describe(
            "How weak pairs meet labeled ones: 'mixed' shuffles labeled and weak pairs together for every epoch (the authors' recipe); 'weak-first' trains weakEpochs on the weak pairs, then the configured epochs on the labeled pairs from that encoder",
          ),
        weakEpochs: z.number().int().positive().max(1000).default(1).describe("Epochs over the weak pairs before the labeled epochs (weakSchedule 'weak-first' only)"),
        devQueries: z
          .enum(['held-out', 's-eval'])
          .default('held-out')
          .describe(
            "Which labeled queries select the epoch: 'held-out' holds out devFraction of S_train + S_eval and trains on the rest; 's-eval' uses every S_eval query as the dev set and trains on S_train alone, as the method lays out",
          ),
        devCandidates: z
          .number()
          .int()
          .positive()
          .max(1000)
          .nullable()
          .default(null)
          .describe('With devCorpusSize set: the dev corpus also holds the BM25 top this-many documents of every dev query (the hard distractors) before the seeded sample fills it; null = judged documents and the sample only'),
        hardNegatives: z
          .number()
          .int()
          .min(0)
          .max(8)
          .default(0)
          .describe('BM25-mined hard negatives per training pair, added to the in-batch negatives of the contrastive loss (judged positives of any query in the batch are never used); 0 = in-batch negatives only'),
        negativeDepth: z
          .number()
          .int()
          .positive()
          .max(1000)
          .default(30)
          .describe("Hard negatives are drawn, seeded, from a pair's query's BM25 top this-many documents, its positives excluded"),
        seeds: z
          .number()
          .int()
          .positive()
          .max(10)
          .default(1)
          .describe('Training runs of every retriever, each with its own seed for the pair order and the negatives (seed, seed + 1, ...); the report gives means, 95% CIs and paired tests pooled over them'),
        hybrid: z
          .boolean()
          .default(false)
          .describe("true adds, for every trained retriever, BM25 fused with it (min-max normalised scores, the dense weight chosen on the dev queries) as a system of its own, a candidate of the promotion gate"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;

/** Each problem as `path: expected ..., got ...`, one per line, for people reading the UI or a terminal. */
function formatConfigIssues(error: z.ZodError, input: unknown): string {
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

type ConfigParseResult = { ok: true; config: PipelineConfig } | { ok: false; message: string };

export function parsePipelineConfig(input: unknown): ConfigParseResult {
  const parsed = pipelineConfigSchema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, message: `invalid pipeline config:\n${formatConfigIssues(parsed.error, input)}` };
}
