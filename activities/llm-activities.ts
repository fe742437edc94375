import type { ArtifactRef } from '../common/artifact-ref.ts';
import { ConfigError } from '../common/errors.ts';
import { canonicalJson, exampleGroupScoreKey, promptTuningKeys, stageScopes } from '../common/artifact-keys.ts';
import { generationSettingsSchema, type GenerationSettings } from '../common/generation-types.ts';
import type { PreparedData } from '../common/pipeline-stages.ts';
import { scoredExampleGroupSchema, softPromptRecordSchema, type ScoredExampleGroup, type SoftPromptRecord, type TunedPrompt } from '../common/prompt-tuning-types.ts';
import type { ExampleGroupConfig, PromptTuningConfig } from '../common/stage-configs.ts';
import { describeZodIssues } from '../common/zod-issues.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { environmentDataRoots, requireModelInDataRoots, type DataRoots } from '../lib/data-roots/data-roots.ts';
import { withLocalCopies } from '../lib/artifact-store/local-copies.ts';
import { loadLlm, type LlmSource, type LoadedLlm } from '../lib/models/llm-source.ts';
import { readLabeledData, type LabeledData } from '../lib/sptar/labeled-data.ts';
import { checkpointFromJson, checkpointJson, float32Bytes, float32FromBytes, promptTuningCheckpointSchema } from '../lib/sptar/prompt-tuning-artifacts.ts';
import type { PromptTuningCheckpoint } from '../lib/sptar/prompt-tuning.ts';
import { promptTuningWork, scoreExampleGroupStage, tunePromptStage } from '../lib/sptar/prompt-tuning-stage.ts';
import { SoftPromptModel } from '../lib/sptar/soft-prompt-model.ts';
import { openWeakQueryWriter, type OpenWeakQueryWriter } from '../lib/sptar/weak-query-generation.ts';
import type { QueryGenerator } from './generation-activities.ts';
import { withProgressHeartbeat } from './progress-heartbeat.ts';
import { parseStoredJson, storedResult } from './stored-results.ts';

/** LLM stages: soft prompt tuning, example-group scoring, and the query generator used by generation shards. */
export function createLlmActivities(deps: { store: ArtifactStore; dataRoots?: DataRoots }) {
  const { store } = deps;
  // Folders the files a config names must lie in (worker settings); default the environment's SPTAR_DATA_ROOTS.
  const dataRoots = deps.dataRoots ?? environmentDataRoots();
  // One loaded LLM per process (weights are large); keyed by its source.
  let llmCache: { key: string; llm: Promise<LoadedLlm> } | undefined;
  const llmFor = (source: LlmSource): Promise<LoadedLlm> => {
    // Every LLM load goes through here: weights or a tokenizer outside the worker's data roots are refused.
    requireModelInDataRoots('llm', source, dataRoots);
    const key = canonicalJson(source);
    if (llmCache?.key !== key) llmCache = { key, llm: loadLlm(source) };
    return llmCache.llm;
  };
  // The loaded models hold gigabytes (the prompt-tuning session keeps its training buffers, each decoder its arena),
  // and a model worker runs every stage in turn: one of them is resident at a time. Opening one releases the others
  // first, and `releaseModels` releases all before non-LLM work (the model worker runs one activity at a time).
  let softModel: { key: string; model: Promise<SoftPromptModel> } | undefined;
  let writer: { key: string; loaded: Promise<OpenWeakQueryWriter> } | undefined;
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

  const labeledData = (prepared: PreparedData): Promise<LabeledData> =>
    withLocalCopies(store, { corpus: prepared.corpus, queries: prepared.queries, sTrain: prepared.sTrain, sEval: prepared.sEval }, (p) =>
      readLabeledData({ corpus: p['corpus']!, queries: p['queries']!, sTrain: p['sTrain']!, sEval: p['sEval']! }),
    );
  const storedCheckpoint = async (key: string): Promise<PromptTuningCheckpoint | undefined> => {
    const ref = await store.stat(key);
    return ref ? checkpointFromJson(parseStoredJson(await store.get(ref), key, promptTuningCheckpointSchema, 'a prompt-tuning checkpoint')) : undefined;
  };
  const tunedPrompt = (prompt: ArtifactRef, record: ArtifactRef, r: SoftPromptRecord): TunedPrompt => ({
    prompt,
    record,
    bestEpoch: r.bestEpoch,
    bestEvalLoss: r.bestEvalLoss,
    initialEvalLoss: r.initialEvalLoss,
    groups: r.groups,
  });

  return {
    async tunePrompt(input: { config: PromptTuningConfig; scope: string; prepared: PreparedData }): Promise<TunedPrompt> {
      const { config, scope, prepared } = input;
      const keys = promptTuningKeys(stageScopes.tunePrompt(scope, config, prepared));
      if (config.reuseArtifacts) {
        const [prompt, record] = await Promise.all([store.stat(keys.prompt), store.stat(keys.record)]);
        const stored = prompt && record ? await storedResult(store, keys.record, true, softPromptRecordSchema, 'a soft-prompt record') : undefined;
        if (prompt && record && stored) return tunedPrompt(prompt, record, stored);
      }
      // Heartbeats on a clock as well as on progress: loading the LLM and storing a checkpoint stay covered.
      return withProgressHeartbeat(undefined, async (heartbeat) => {
        // The labeled data and the checkpoint first: they give the totals of the progress records.
        const data = await labeledData(prepared);
        const resumeFrom = await storedCheckpoint(keys.checkpoint);
        const work = promptTuningWork(config.promptTuning.maxEpochs, data.train.length, data.evalPairs.length, resumeFrom?.epoch ?? 0);
        heartbeat({ stage: 'tune-prompt', task: 'loading the LLM', unit: 'items', ...work });
        const llm = await llmFor(config.llm);
        heartbeat({ stage: 'tune-prompt', task: 'building the loss graphs', unit: 'items', ...work });
        const model = await softModelFor(config.llm, config.promptTuning.promptLength);
        const tuned = await tunePromptStage(config, data, llm, model, {
          heartbeat,
          ...(resumeFrom ? { resumeFrom } : {}),
          onEpoch: async (c) => {
            await store.put(keys.checkpoint, checkpointJson(c));
          },
        });
        const prompt = await store.put(keys.prompt, float32Bytes(tuned.prompt));
        const record = await store.put(keys.record, JSON.stringify(tuned.record));
        return tunedPrompt(prompt, record, tuned.record);
      });
    },

    /** Mean S_eval loss with the tuned prompt fixed and one candidate group as the examples. */
    async scoreExampleGroup(input: { config: ExampleGroupConfig; scope?: string; prepared: PreparedData; prompt: ArtifactRef; group: number[] }): Promise<ScoredExampleGroup> {
      const { config, prepared, group } = input;
      // A stored score for the same prompt, group and data is reused (a resumed or repeated run skips the S_eval pass).
      // Workflows started before the scope was passed schedule this without one: they score without storing.
      const key = input.scope === undefined ? undefined : exampleGroupScoreKey(stageScopes.exampleGroup(input.scope, config, prepared, input.prompt, group));
      const stored = key === undefined ? undefined : await storedResult(store, key, config.reuseArtifacts, scoredExampleGroupSchema, 'an example-group score');
      if (stored) return stored;
      return withProgressHeartbeat(undefined, async (heartbeat) => {
        const llm = await llmFor(config.llm);
        const data = await labeledData(prepared);
        const model = await softModelFor(config.llm, config.promptTuning.promptLength);
        const prompt = float32FromBytes(await store.get(input.prompt));
        const scored = await scoreExampleGroupStage(config, data, llm, model, prompt, group, heartbeat);
        if (key !== undefined) await store.put(key, JSON.stringify(scored));
        return scored;
      });
    },

    /** Releases every loaded LLM session and the weights; the next LLM activity loads what it needs again. */
    releaseModels: async (): Promise<void> => {
      await releaseLoaded();
      llmCache = undefined;
    },

    /** The shard activity's generator: built once per process for the same generation settings. */
    generatorFor: async (input: GenerationSettings): Promise<QueryGenerator> => {
      // Settings reach a model worker through Temporal: checked again here.
      const parsed = generationSettingsSchema.safeParse(input);
      if (!parsed.success) throw new ConfigError(`generation settings: ${describeZodIssues(parsed.error)}`);
      const settings = parsed.data;
      const key = canonicalJson(settings);
      if (writer?.key !== key) {
        const released = releaseLoaded();
        writer = {
          key,
          loaded: (async () => {
            await released;
            const llm = await llmFor(settings.llm);
            const softPrompt = settings.softPrompt ? float32FromBytes(await store.get(settings.softPrompt)) : undefined;
            return openWeakQueryWriter(llm, settings, softPrompt);
          })(),
        };
      }
      const w = (await writer.loaded).writer;
      return { batchSize: w.batchSize, generate: (docs) => w.generate(docs), promptTokens: (doc) => w.promptTokens(doc) };
    },
  };
}

export type LlmActivities = Omit<ReturnType<typeof createLlmActivities>, 'generatorFor'>;
