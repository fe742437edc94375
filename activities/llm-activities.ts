import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { artifactRefSchema, type ArtifactRef } from '../common/artifact-ref.ts';
import { CorruptArtifactError, MissingModelError } from '../common/errors.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import type { PreparedData } from '../common/pipeline-stages.ts';
import { loadQrels, loadQueries, readCorpus } from '../lib/beir/index.ts';
import { OnnxCausalDecoder } from '../lib/generation/onnx-decoder.ts';
import { decoderParts, type DecoderConfig } from '../lib/models/decoder-graphs.ts';
import type { WeightMap } from '../lib/models/model-config.ts';
import { randomGpt2Weights, randomLlamaWeights, TINY_GPT2, TINY_LLAMA } from '../lib/models/tiny-models.ts';
import { createPrng } from '../lib/splits/prng.ts';
import { sampleExampleGroups } from '../lib/sptar/example-groups.ts';
import { tunePrompt, type PromptTuningCheckpoint } from '../lib/sptar/prompt-tuning.ts';
import { PromptTokenizer } from '../lib/sptar/prompt-tokens.ts';
import { initialSoftPrompt, SoftPromptModel, type LossItem } from '../lib/sptar/soft-prompt-model.ts';
import { documentString, WeakQueryWriter } from '../lib/sptar/weak-query-writer.ts';
import { tokenizerFromGgufMetadata } from '../lib/tokenizers/gguf-tokenizer.ts';
import { loadTokenizerJson } from '../lib/tokenizers/tokenizer-files.ts';
import type { TextTokenizer } from '../lib/tokenizers/text-tokenizer.ts';
import { loadGguf } from '../lib/weights/gguf.ts';
import { INPARS_EXAMPLES, type ExamplePair } from '../lib/weak-data/index.ts';
import type { ArtifactStore } from './artifact-store/index.ts';
import { markReused } from './activity-costs.ts';
import type { QueryGenerator } from './generation-activities.ts';
import { withLocalCopies } from './local-copies.ts';
import { canonicalJson, stageKey, stageScope } from './stage-artifacts.ts';

type LlmSource = PipelineConfig['llm'];

export interface LoadedLlm {
  readonly config: DecoderConfig;
  readonly weights: WeightMap;
  readonly tokenizer: TextTokenizer;
  readonly eosTokenId: number;
}

const DEFAULT_TINY_DECODER_TOKENIZER = '../shared/tokenizers/gpt2/tokenizer.json';

/** Loads the configured LLM: real GGUF weights, or a seeded tiny decoder over a real tokenizer's vocabulary. */
export async function loadLlm(source: LlmSource): Promise<LoadedLlm> {
  switch (source.kind) {
    case 'file': {
      const path = resolve(source.path);
      if (!existsSync(path)) throw new MissingModelError(`LLM weights ${path} are missing; run 'bash infra/install.sh models' or fix llm.path`);
      const gguf = await loadGguf(path);
      const tokenizer = tokenizerFromGgufMetadata(gguf.tokenizerMetadata, path);
      const eos = gguf.tokenizerMetadata.eosTokenId ?? tokenizer.special.eos;
      if (eos === undefined) throw new MissingModelError(`${path} names no EOS token; the loss target needs one`);
      return { config: gguf.config, weights: gguf.weights, tokenizer, eosTokenId: eos };
    }
    case 'tiny': {
      const tokPath = resolve(source.tokenizer ?? DEFAULT_TINY_DECODER_TOKENIZER);
      if (!existsSync(tokPath)) throw new MissingModelError(`tokenizer ${tokPath} for the tiny LLM is missing; set llm.tokenizer`);
      const tokenizer = await loadTokenizerJson(tokPath);
      const eos = tokenizer.special.eos;
      if (eos === undefined) throw new MissingModelError(`tokenizer ${tokPath} has no EOS token`);
      if (source.architecture === 'llama') {
        const config = { ...TINY_LLAMA, vocabSize: tokenizer.vocabSize, maxPositions: 2048 };
        return { config, weights: randomLlamaWeights(config, source.seed), tokenizer, eosTokenId: eos };
      }
      if (source.architecture === 'gpt2') {
        const config = { ...TINY_GPT2, vocabSize: tokenizer.vocabSize, maxPositions: 2048 };
        return { config, weights: randomGpt2Weights(config, source.seed), tokenizer, eosTokenId: eos };
      }
      throw new MissingModelError(`llm.architecture '${source.architecture}' is not a decoder; use llama or gpt2`);
    }
  }
}

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

export interface TunedPrompt {
  readonly prompt: ArtifactRef;
  readonly record: ArtifactRef;
  readonly bestEpoch: number;
  readonly bestEvalLoss: number;
  readonly initialEvalLoss: number;
  readonly groups: number[][];
}

export const generationSharedSchema = z.object({
  llm: z.unknown(),
  /** Float32 soft prompt, or null for the InPars-style baseline. */
  softPrompt: artifactRefSchema.nullable(),
  /** The filtered example group, or 'inpars' for the fixed hand-written InPars-style examples. */
  examples: z.union([z.array(z.object({ document: z.string(), query: z.string() })), z.literal('inpars')]),
  maxDocumentWords: z.number().int(),
  maxQueryWords: z.number().int(),
  maxNewTokens: z.number().int(),
  batchSize: z.number().int(),
  prefixCache: z.boolean(),
});
export type GenerationShared = z.infer<typeof generationSharedSchema>;

interface LabeledData {
  readonly train: readonly ExamplePair[];
  readonly evalPairs: readonly ExamplePair[];
}

const f32 = (bytes: Uint8Array): Float32Array => {
  if (bytes.byteLength % 4 !== 0) throw new CorruptArtifactError('a float32 tensor artifact has a length that is not a multiple of 4');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** One candidate example group's mean S_eval loss, as stored for reuse. */
export const scoredExampleGroupSchema = z
  .object({
    group: z.array(z.number().int().nonnegative()),
    loss: z.number(),
    examples: z.array(z.object({ document: z.string(), query: z.string() }).strict()),
  })
  .strict();
export type ScoredExampleGroup = z.infer<typeof scoredExampleGroupSchema>;

/** LLM stages: soft prompt tuning, example-group scoring, and the query generator used by generation shards. */
export function createLlmActivities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  // One loaded LLM per process (weights are large); keyed by its source.
  let llmCache: { key: string; llm: Promise<LoadedLlm> } | undefined;
  const llmFor = (source: LlmSource): Promise<LoadedLlm> => {
    const key = canonicalJson(source);
    if (llmCache?.key !== key) llmCache = { key, llm: loadLlm(source) };
    return llmCache.llm;
  };
  // The loaded models hold gigabytes (the prompt-tuning session keeps its training buffers, each decoder its arena),
  // and a model worker runs every stage in turn: one of them is resident at a time. Opening one releases the others
  // first, and `releaseModels` releases all before non-LLM work (the model worker runs one activity at a time).
  let softModel: { key: string; model: Promise<SoftPromptModel> } | undefined;
  let writer: { key: string; loaded: Promise<{ writer: WeakQueryWriter; decoder: OnnxCausalDecoder }> } | undefined;
  const releaseSoftModel = async (): Promise<void> => {
    const stale = softModel;
    softModel = undefined;
    if (stale) await stale.model.then((m) => m.release(), () => undefined);
  };
  const releaseWriter = async (): Promise<void> => {
    const stale = writer;
    writer = undefined;
    if (stale) await stale.loaded.then((l) => l.decoder.release(), () => undefined);
  };
  const releaseLoaded = async (): Promise<void> => {
    await Promise.all([releaseSoftModel(), releaseWriter()]);
  };
  const softModelFor = async (source: LlmSource, promptLength: number): Promise<SoftPromptModel> => {
    const key = `${canonicalJson(source)}/${promptLength}`;
    if (softModel?.key !== key) {
      const released = releaseLoaded();
      // Worker-thread sessions: a prompt-tuning step runs for seconds, and heartbeats must keep flowing meanwhile.
      softModel = { key, model: released.then(() => llmFor(source)).then((l) => SoftPromptModel.open(l.weights, l.config, promptLength, { worker: true })) };
    }
    return softModel.model;
  };

  /** S_train and S_eval as (document text, query text) pairs, in qrels order. */
  async function labeledData(prepared: PreparedData): Promise<LabeledData> {
    return withLocalCopies(store, { corpus: prepared.corpus, queries: prepared.queries, train: prepared.sTrain, eval: prepared.sEval }, async (p) => {
      const queries = (await loadQueries(p['queries']!)).value;
      const pairs = async (path: string) => {
        const out: { q: string; d: string }[] = [];
        for (const [q, docs] of (await loadQrels(path)).value) for (const d of docs.keys()) out.push({ q, d });
        return out;
      };
      const train = await pairs(p['train']!);
      const evalPairs = await pairs(p['eval']!);
      const needed = new Set([...train, ...evalPairs].map((x) => x.d));
      const docs = new Map<string, string>();
      for await (const row of readCorpus(p['corpus']!)) if (needed.has(row._id)) docs.set(row._id, documentString(row));
      const toPair = (x: { q: string; d: string }): ExamplePair => {
        const document = docs.get(x.d);
        const query = queries.get(x.q);
        if (document === undefined || query === undefined) throw new CorruptArtifactError(`labeled pair (${x.q}, ${x.d}) has no text in the prepared corpus/queries`);
        return { document, query };
      };
      return { train: train.map(toPair), evalPairs: evalPairs.map(toPair) };
    });
  }

  return {
    async tunePrompt(input: { config: PipelineConfig; scope: string; prepared: PreparedData }): Promise<TunedPrompt> {
      const { config, scope, prepared } = input;
      const pt = config.promptTuning;
      const sc = stageScope(scope, 'tune-prompt', { llm: config.llm, promptTuning: pt, seed: config.seed, groups: config.exampleFilter.groups }, [prepared.sTrain, prepared.sEval, prepared.corpus]);
      const recordKey = stageKey(sc, 'soft-prompt.json');
      const promptKey = stageKey(sc, 'soft-prompt.f32');
      if (config.reuseArtifacts) {
        const [rec, prm] = await Promise.all([store.stat(recordKey), store.stat(promptKey)]);
        if (rec && prm) {
          const r = softPromptRecordSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(rec))));
          markReused();
          return { prompt: prm, record: rec, bestEpoch: r.bestEpoch, bestEvalLoss: r.bestEvalLoss, initialEvalLoss: r.initialEvalLoss, groups: r.groups };
        }
      }
      const ctx = Context.current();
      ctx.heartbeat({ step: 'loading the LLM' });
      const llm = await llmFor(config.llm);
      ctx.heartbeat({ step: 'reading labeled data' });
      const data = await labeledData(prepared);
      const M = pt.examplesPerPrompt;
      const limits = { document: { unit: 'words' as const, max: pt.maxDocumentWords }, query: { unit: 'words' as const, max: pt.maxQueryWords } };
      const tokens = new PromptTokenizer(llm.tokenizer, llm.eosTokenId, limits);
      // Each training item sees M other S_train pairs as examples; each eval item M S_train pairs: fixed by the seed.
      const pick = createPrng(config.seed, 'prompt-tuning/examples');
      const examplesExcept = (skip: number): ExamplePair[] => {
        const pool = data.train.map((_, i) => i).filter((i) => i !== skip);
        return sampleExampleGroups(pool.length, 1, Math.min(M, pool.length), pick.next)[0]!.map((j) => data.train[pool[j]!]!);
      };
      const trainItems: LossItem[] = data.train.map((p, i) => tokens.trainingItem(examplesExcept(i), p.document, p.query));
      const evalItems: LossItem[] = data.evalPairs.map((p) => tokens.trainingItem(examplesExcept(-1), p.document, p.query));
      const groups = sampleExampleGroups(data.train.length, config.exampleFilter.groups, Math.min(M, data.train.length), createPrng(config.seed, 'example-filter/groups').next);

      ctx.heartbeat({ step: 'building the loss graphs' });
      const model = await softModelFor(config.llm, pt.promptLength);
      const embeddings = llm.weights.get(decoderParts(llm.config, llm.weights).embeddingName)!;
      const init = initialSoftPrompt(embeddings, llm.tokenizer.encode(pt.initText), pt.promptLength);
      const checkpointKey = stageKey(sc, 'checkpoint.json');
      const resumeFrom = await loadCheckpoint(store, checkpointKey);
      let step = 0;
      const result = await tunePrompt(
        init,
        trainItems,
        evalItems,
        {
          lossAndGradient: async (prompt, item) => {
            const r = await model.lossAndGradient(prompt, item);
            ctx.heartbeat({ step: ++step });
            return r;
          },
          evalLoss: (prompt, items) => meanLossHeartbeating(model, prompt, items, pt.evalBatchSize, (done) => ctx.heartbeat({ step, evalItems: done, of: items.length })),
        },
        {
          learningRate: pt.learningRate,
          maxEpochs: pt.maxEpochs,
          patience: pt.patience,
          shuffle: (n, epoch) => {
            const rng = createPrng(config.seed, `prompt-tuning/epoch-${epoch}`);
            const order = Array.from({ length: n }, (_, i) => i);
            for (let i = n - 1; i > 0; i--) {
              const j = rng.int(i + 1);
              [order[i], order[j]] = [order[j]!, order[i]!];
            }
            return order;
          },
        },
        {
          ...(resumeFrom ? { resumeFrom } : {}),
          onEpoch: (c) => saveCheckpoint(store, checkpointKey, c),
        },
      );
      const record: SoftPromptRecord = {
        promptLength: pt.promptLength,
        hiddenSize: llm.config.hiddenSize,
        bestEpoch: result.bestEpoch,
        bestEvalLoss: result.bestEvalLoss,
        initialEvalLoss: result.curve[0]!.evalLoss,
        stoppedEarly: result.stoppedEarly,
        curve: result.curve.map((c) => ({ epoch: c.epoch, trainLoss: Number.isFinite(c.trainLoss) ? c.trainLoss : null, evalLoss: c.evalLoss })),
        groups,
      };
      const prompt = await store.put(promptKey, bytesOf(result.prompt));
      const rec = await store.put(recordKey, JSON.stringify(record));
      return { prompt, record: rec, bestEpoch: record.bestEpoch, bestEvalLoss: record.bestEvalLoss, initialEvalLoss: record.initialEvalLoss, groups };
    },

    /** Mean S_eval loss with the tuned prompt fixed and one candidate group as the examples. */
    async scoreExampleGroup(input: { config: PipelineConfig; scope?: string; prepared: PreparedData; prompt: ArtifactRef; group: number[] }): Promise<ScoredExampleGroup> {
      const { config, prepared } = input;
      const pt = config.promptTuning;
      // A stored score for the same prompt, group and data is reused (a resumed or repeated run skips the S_eval pass).
      // Workflows started before the scope was passed schedule this without one: they score without storing.
      const resultKey =
        input.scope === undefined
          ? undefined
          : stageKey(stageScope(input.scope, 'example-group', { llm: config.llm, promptTuning: pt, group: input.group }, [input.prompt, prepared.sTrain, prepared.sEval, prepared.corpus, prepared.queries]), 'score.json');
      if (resultKey !== undefined && config.reuseArtifacts) {
        const existing = await store.stat(resultKey);
        if (existing) {
          const parsed = scoredExampleGroupSchema.safeParse(JSON.parse(new TextDecoder().decode(await store.get(existing))));
          if (!parsed.success) throw new CorruptArtifactError(`${resultKey} is not an example-group score; delete it to score the group again`);
          markReused();
          return parsed.data;
        }
      }
      const llm = await llmFor(config.llm);
      const data = await labeledData(prepared);
      const examples = input.group.map((i) => {
        const e = data.train[i];
        if (!e) throw new CorruptArtifactError(`example group index ${i} is outside S_train (${data.train.length} pairs)`);
        return e;
      });
      const limits = { document: { unit: 'words' as const, max: pt.maxDocumentWords }, query: { unit: 'words' as const, max: pt.maxQueryWords } };
      const tokens = new PromptTokenizer(llm.tokenizer, llm.eosTokenId, limits);
      const items = data.evalPairs.map((p) => tokens.trainingItem(examples, p.document, p.query));
      const model = await softModelFor(config.llm, pt.promptLength);
      const prompt = f32(await store.get(input.prompt));
      const ctx = Context.current();
      const loss = await meanLossHeartbeating(model, prompt, items, pt.evalBatchSize, (done) => ctx.heartbeat({ group: input.group, evalItems: done, of: items.length }));
      const scored: ScoredExampleGroup = { group: input.group, loss, examples };
      if (resultKey !== undefined) await store.put(resultKey, JSON.stringify(scored));
      return scored;
    },

    /** Releases every loaded LLM session and the weights; the next LLM activity loads what it needs again. */
    releaseModels: async (): Promise<void> => {
      await releaseLoaded();
      llmCache = undefined;
    },

    /** The shard activity's generator: built once per process for the same shared inputs. */
    generatorFor: async (sharedRaw: unknown): Promise<QueryGenerator> => {
      const shared = generationSharedSchema.parse(sharedRaw);
      const key = canonicalJson(shared);
      if (writer?.key !== key) {
        const released = releaseLoaded();
        writer = {
          key,
          loaded: (async () => {
            await released;
            const llm = await llmFor(shared.llm as LlmSource);
            const decoder = await OnnxCausalDecoder.create(llm.weights, llm.config);
            const soft = shared.softPrompt ? f32(await store.get(shared.softPrompt)) : undefined;
            const limits = { document: { unit: 'words' as const, max: shared.maxDocumentWords }, query: { unit: 'words' as const, max: shared.maxQueryWords } };
            const examples = shared.examples === 'inpars' ? INPARS_EXAMPLES : shared.examples;
            const w = new WeakQueryWriter(decoder, new PromptTokenizer(llm.tokenizer, llm.eosTokenId, limits), soft, examples, {
              maxNewTokens: shared.maxNewTokens,
              batchSize: shared.batchSize,
              prefixCache: shared.prefixCache,
            });
            return { writer: w, decoder };
          })(),
        };
      }
      const w = (await writer.loaded).writer;
      return { batchSize: w.batchSize, generate: (docs) => w.generate(docs) };
    },
  };
}

/**
 * The mean S_eval loss, one batch per run with a heartbeat after each: a whole S_eval pass takes minutes on a busy
 * worker, longer than the heartbeat timeout. Same value as `meanLoss` over all items (a mean of per-item means).
 */
async function meanLossHeartbeating(model: SoftPromptModel, prompt: Float32Array, items: readonly LossItem[], batchSize: number, beat: (done: number) => void): Promise<number> {
  let sum = 0;
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = items.slice(i, i + batchSize);
    sum += (await model.meanLoss(prompt, batch, batchSize)) * batch.length;
    beat(i + batch.length);
  }
  return sum / items.length;
}

// Epoch checkpoints of prompt tuning: JSON with the float arrays as plain number arrays (l x hidden is small).
const checkpointSchema = z.object({
  epoch: z.number().int(),
  prompt: z.array(z.number()),
  optimizer: z.object({ step: z.number().int(), m: z.array(z.array(z.number())), v: z.array(z.array(z.number())) }),
  best: z.object({ epoch: z.number().int(), evalLoss: z.number(), prompt: z.array(z.number()) }),
  curve: z.array(z.object({ epoch: z.number(), trainLoss: z.number().nullable(), evalLoss: z.number() })),
  epochsWithoutImprovement: z.number().int(),
});

async function saveCheckpoint(store: ArtifactStore, key: string, c: PromptTuningCheckpoint): Promise<void> {
  await store.put(
    key,
    JSON.stringify({
      epoch: c.epoch,
      prompt: [...c.prompt],
      optimizer: { step: c.optimizer.step, m: c.optimizer.m.map((a) => [...a]), v: c.optimizer.v.map((a) => [...a]) },
      best: { epoch: c.best.epoch, evalLoss: c.best.evalLoss, prompt: [...c.best.prompt] },
      curve: c.curve.map((x) => ({ ...x, trainLoss: Number.isFinite(x.trainLoss) ? x.trainLoss : null })),
      epochsWithoutImprovement: c.epochsWithoutImprovement,
    }),
  );
}

async function loadCheckpoint(store: ArtifactStore, key: string): Promise<PromptTuningCheckpoint | undefined> {
  const ref = await store.stat(key);
  if (!ref) return undefined;
  const parsed = checkpointSchema.safeParse(JSON.parse(new TextDecoder().decode(await store.get(ref))));
  if (!parsed.success) throw new CorruptArtifactError(`prompt-tuning checkpoint ${key} is unreadable; delete it to restart tuning`);
  const c = parsed.data;
  return {
    epoch: c.epoch,
    prompt: Float32Array.from(c.prompt),
    optimizer: { step: c.optimizer.step, m: c.optimizer.m.map((a) => Float32Array.from(a)), v: c.optimizer.v.map((a) => Float32Array.from(a)) },
    best: { epoch: c.best.epoch, evalLoss: c.best.evalLoss, prompt: Float32Array.from(c.best.prompt) },
    curve: c.curve.map((x) => ({ ...x, trainLoss: x.trainLoss ?? Number.NaN })),
    epochsWithoutImprovement: c.epochsWithoutImprovement,
  };
}

export type LlmActivities = Omit<ReturnType<typeof createLlmActivities>, 'generatorFor'>;
