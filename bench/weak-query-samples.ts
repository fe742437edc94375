// Weak queries from the real LLM before and after soft prompt tuning, side by side for the same documents and the
// same two examples: what tuning changes. Reads the finished prepare and prompt-tuning stages of the config's run
// from the artifact store (their keys derived from the config and the dataset, as the pipeline derives them),
// generates for N seeded unlabeled documents with (a) the untuned prompt (the init text's embeddings, the tuning's
// starting point) and (b) the tuned prompt, and writes a Markdown table. Labeled pairs, the initial prompt and the
// writer come from the same functions the pipeline's stages call.
//
//   npm run bench:weak-samples [-- --config configs/scifact-bench.json --documents 20 --out FILE --scope SCOPE]
//
// --scope: the run's artifact scope; the run name (default) when the run reuses artifacts (reuseArtifacts: true).
// The prepared record is the one of a full (not incremental) run on the dataset as it is now.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareKeys, promptTuningKeys, stageScopes } from '../common/artifact-keys.ts';
import { generationSettings } from '../common/generation-types.ts';
import { parsePipelineConfig } from '../common/pipeline-config.ts';
import { preparedDataSchema } from '../common/pipeline-stages.ts';
import { softPromptRecordSchema } from '../common/prompt-tuning-types.ts';
import { createArtifactStore } from '../lib/artifact-store/index.ts';
import { withLocalCopies } from '../lib/artifact-store/local-copies.ts';
import { loadQrels, readCorpus } from '../lib/beir/index.ts';
import { OnnxCausalDecoder } from '../lib/generation/onnx-decoder.ts';
import { loadLlm } from '../lib/models/llm-source.ts';
import { createPrng, shuffled } from '../lib/random/prng.ts';
import { groupExamples, readLabeledData } from '../lib/sptar/labeled-data.ts';
import { datasetFiles, datasetFingerprint } from '../lib/sptar/prepare-stage.ts';
import { float32FromBytes } from '../lib/sptar/prompt-tuning-artifacts.ts';
import { initialPrompt } from '../lib/sptar/prompt-tuning-stage.ts';
import { weakQueryWriter, writeWeakQueries } from '../lib/sptar/weak-query-generation.ts';
import { documentString, type WriterDocument, type WriterOutcome } from '../lib/sptar/weak-query-writer.ts';
import { loadSettings } from '../workers/settings.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/scifact-bench.json' },
    documents: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results/weak-query-samples.md' },
    scope: { type: 'string' },
  },
});
const parsed = parsePipelineConfig(JSON.parse(await readFile(resolve(values.config), 'utf8')));
if (!parsed.ok) throw new Error(`${values.config}: ${parsed.message}`);
const config = parsed.config;
const scope = values.scope ?? config.runName;
const store = createArtifactStore(loadSettings().store);
const stored = async (key: string, what: string): Promise<Uint8Array> => {
  if (!(await store.stat(key))) throw new Error(`no ${what} at ${key} in ${store.location}; run the pipeline (npm run bench:scifact) past that stage first, or pass the run's --scope`);
  return store.get(key);
};
const json = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

// The run's prepared data and tuned prompt, by key.
const fingerprint = await datasetFingerprint(datasetFiles(config.dataset));
const prepared = preparedDataSchema.parse(json(await stored(prepareKeys(stageScopes.prepare(scope, config, fingerprint, null)).record, 'prepared-data record')));
const tuningKeys = promptTuningKeys(stageScopes.tunePrompt(scope, config, prepared));
const record = softPromptRecordSchema.parse(json(await stored(tuningKeys.record, 'soft-prompt record')));
const tuned = float32FromBytes(await stored(tuningKeys.prompt, 'soft prompt'));

// Examples: the first candidate group of S_train (the same for both prompts); documents: a seeded sample of
// unlabeled ones (judged in no qrels).
const refs = { corpus: prepared.corpus, queries: prepared.queries, sTrain: prepared.sTrain, sEval: prepared.sEval, testQrels: prepared.testQrels };
const { labeled, corpus, judged } = await withLocalCopies(store, refs, async (p) => {
  const labeled = await readLabeledData({ corpus: p['corpus']!, queries: p['queries']!, sTrain: p['sTrain']!, sEval: p['sEval']! });
  const judged = new Set<string>();
  for (const k of ['sTrain', 'sEval', 'testQrels']) for (const docs of (await loadQrels(p[k]!)).value.values()) for (const d of docs.keys()) judged.add(d);
  const corpus = new Map<string, WriterDocument>();
  for await (const row of readCorpus(p['corpus']!)) corpus.set(row._id, { title: row.title ?? '', text: row.text });
  return { labeled, corpus, judged };
});
const examples = groupExamples(labeled.train, record.groups[0]!);
const n = Number(values.documents);
const docIds = shuffled([...corpus.keys()].filter((id) => !judged.has(id)).sort(), createPrng(config.seed, 'weak-query-samples')).slice(0, n);
const docs = docIds.map((id) => corpus.get(id)!);

const llm = await loadLlm(config.llm);
const untuned = initialPrompt(llm, config.promptTuning);
const settings = generationSettings(config, null, examples);
const model = await OnnxCausalDecoder.create(llm.weights, llm.config);
const generateWith = (prompt: Float32Array): Promise<WriterOutcome[]> => writeWeakQueries(weakQueryWriter(model, llm, settings, prompt), docs);
const started = Date.now();
const before = await generateWith(untuned);
const after = await generateWith(tuned);
const seconds = (Date.now() - started) / 1000;

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
const show = (o: WriterOutcome) => ('query' in o ? cell(o.query) : `*(failed: ${cell(o.failure)})*`);
const lines = [
  `# Weak queries before and after soft prompt tuning`,
  '',
  `LLM: \`${JSON.stringify(config.llm)}\`; soft prompt of ${record.promptLength} vectors; tuned prompt from \`${tuningKeys.record}\` (best epoch ${record.bestEpoch}, S_eval loss ${record.initialEvalLoss.toFixed(4)} -> ${record.bestEvalLoss.toFixed(4)}); untuned = the embeddings of "${config.promptTuning.initText}" repeated to length, the tuning's starting point. Same two examples (S_train group 0) and greedy decoding for both. ${docs.length} seeded unlabeled SciFact documents; ${seconds.toFixed(0)} s for both runs.`,
  '',
  '| document | before tuning | after tuning |',
  '|---|---|---|',
  ...docIds.map((id, i) => `| \`${id}\` ${cell(documentString(docs[i]!).slice(0, 220))}… | ${show(before[i]!)} | ${show(after[i]!)} |`),
  '',
];
await writeFile(resolve(values.out), lines.join('\n'));
console.log(lines.join('\n'));
await model.release();
