// Weak queries from the real LLM before and after soft prompt tuning, side by side for the same documents and the
// same two examples: what tuning changes. Reads a finished prompt-tuning stage from the artifact store (by run
// name), generates for N seeded unlabeled documents with (a) the untuned prompt (the init text's embeddings, the
// tuning's starting point) and (b) the tuned prompt, and writes a Markdown table.
//
//   npm run bench:weak-samples [-- --config configs/scifact-bench.json --documents 20 --out FILE --record KEY]
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createArtifactStore } from '../activities/artifact-store/index.ts';
import { loadLlm, softPromptRecordSchema } from '../activities/llm-activities.ts';
import { parsePipelineConfig } from '../common/pipeline-config.ts';
import { preparedDataSchema } from '../common/pipeline-stages.ts';
import { loadQrels, loadQueries, readCorpus } from '../lib/beir/index.ts';
import { OnnxCausalDecoder } from '../lib/generation/onnx-decoder.ts';
import { decoderParts } from '../lib/models/decoder-graphs.ts';
import { createPrng, shuffled } from '../lib/splits/prng.ts';
import { PromptTokenizer } from '../lib/sptar/prompt-tokens.ts';
import { initialSoftPrompt } from '../lib/sptar/soft-prompt-model.ts';
import { documentString, WeakQueryWriter, type WriterDocument, type WriterOutcome } from '../lib/sptar/weak-query-writer.ts';
import { loadSettings } from '../workers/settings.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/scifact-bench.json' },
    documents: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results/weak-query-samples.md' },
    record: { type: 'string' },
    prepared: { type: 'string' },
  },
});
const { readFile } = await import('node:fs/promises');
const parsed = parsePipelineConfig(JSON.parse(await readFile(resolve(values.config), 'utf8')));
if (!parsed.ok) throw new Error(`${values.config}: ${parsed.message}`);
const config = parsed.config;
const store = createArtifactStore(loadSettings().store);
const text = async (key: string) => new TextDecoder().decode(await store.get(key));

// The finished tuning and preparation of this run name (one each, unless the config changed between runs).
const keys = await store.list(`${config.runName}/`);
const only = (suffix: string, chosen: string | undefined): string => {
  const found = keys.filter((k) => k.endsWith(suffix));
  if (chosen !== undefined) {
    if (!found.includes(chosen)) throw new Error(`${chosen} is not among ${found.join(', ') || `no ${suffix} under ${config.runName}/`}`);
    return chosen;
  }
  if (found.length === 0) throw new Error(`no ${suffix} under ${config.runName}/ in ${store.location}; run the pipeline (npm run bench:scifact) past that stage first`);
  if (found.length > 1) throw new Error(`several ${suffix} under ${config.runName}/: ${found.join(', ')}; choose one with --${suffix.includes('prompt') ? 'record' : 'prepared'} KEY`);
  return found[0]!;
};
const recordKey = only('/soft-prompt.json', values.record);
const record = softPromptRecordSchema.parse(JSON.parse(await text(recordKey)));
const tunedBytes = await store.get(recordKey.replace(/soft-prompt\.json$/, 'soft-prompt.f32'));
const tuned = new Float32Array(tunedBytes.buffer.slice(tunedBytes.byteOffset, tunedBytes.byteOffset + tunedBytes.byteLength));
const prepared = preparedDataSchema.parse(JSON.parse(await text(only('/prepared.json', values.prepared))));

// Examples: the first candidate group of S_train (the same for both prompts); documents: a seeded sample of
// unlabeled ones (judged in no qrels).
const sTrain = (await loadQrels(await localCopy(prepared.sTrain.key))).value;
const trainPairs = [...sTrain].flatMap(([q, docs]) => [...docs.keys()].map((d) => ({ q, d })));
const queries = (await loadQueries(await localCopy(prepared.queries.key))).value;
const judged = new Set<string>();
for (const k of [prepared.sTrain.key, prepared.sEval.key, prepared.testQrels.key]) for (const docs of (await loadQrels(await localCopy(k))).value.values()) for (const d of docs.keys()) judged.add(d);
const corpus = new Map<string, WriterDocument>();
for await (const row of readCorpus(await localCopy(prepared.corpus.key))) corpus.set(row._id, { title: row.title ?? '', text: row.text });
const group = record.groups[0]!;
const examples = group.map((i) => {
  const p = trainPairs[i]!;
  return { document: documentString(corpus.get(p.d)!), query: queries.get(p.q)! };
});
const n = Number(values.documents);
const docIds = shuffled([...corpus.keys()].filter((id) => !judged.has(id)).sort(), createPrng(config.seed, 'weak-query-samples')).slice(0, n);
const docs = docIds.map((id) => corpus.get(id)!);

const llm = await loadLlm(config.llm);
const embeddings = llm.weights.get(decoderParts(llm.config, llm.weights).embeddingName)!;
const untuned = initialSoftPrompt(embeddings, llm.tokenizer.encode(config.promptTuning.initText), config.promptTuning.promptLength);
const model = await OnnxCausalDecoder.create(llm.weights, llm.config);
const limits = { document: { unit: 'words' as const, max: config.promptTuning.maxDocumentWords }, query: { unit: 'words' as const, max: config.promptTuning.maxQueryWords } };
const options = { maxNewTokens: config.generation.maxNewTokens, batchSize: config.generation.batchSize, prefixCache: true };
const generateWith = async (prompt: Float32Array): Promise<WriterOutcome[]> => {
  const writer = new WeakQueryWriter(model, new PromptTokenizer(llm.tokenizer, llm.eosTokenId, limits), prompt, examples, options);
  const out: WriterOutcome[] = [];
  for (let i = 0; i < docs.length; i += options.batchSize) out.push(...(await writer.generate(docs.slice(i, i + options.batchSize))));
  return out;
};
const started = Date.now();
const before = await generateWith(untuned);
const after = await generateWith(tuned);
const seconds = (Date.now() - started) / 1000;

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
const show = (o: WriterOutcome) => ('query' in o ? cell(o.query) : `*(failed: ${cell(o.failure)})*`);
const lines = [
  `# Weak queries before and after soft prompt tuning`,
  '',
  `LLM: \`${JSON.stringify(config.llm)}\`; soft prompt of ${record.promptLength} vectors; tuned prompt from \`${recordKey}\` (best epoch ${record.bestEpoch}, S_eval loss ${record.initialEvalLoss.toFixed(4)} -> ${record.bestEvalLoss.toFixed(4)}); untuned = the embeddings of "${config.promptTuning.initText}" repeated to length, the tuning's starting point. Same two examples (S_train group 0) and greedy decoding for both. ${docs.length} seeded unlabeled SciFact documents; ${seconds.toFixed(0)} s for both runs.`,
  '',
  '| document | before tuning | after tuning |',
  '|---|---|---|',
  ...docIds.map((id, i) => `| \`${id}\` ${cell(documentString(docs[i]!).slice(0, 220))}… | ${show(before[i]!)} | ${show(after[i]!)} |`),
  '',
];
await writeFile(resolve(values.out), lines.join('\n'));
console.log(lines.join('\n'));
await model.release();

async function localCopy(key: string): Promise<string> {
  const { mkdtemp, writeFile: write } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'sptar-samples-'));
  const path = join(dir, key.split('/').at(-1)!);
  await write(path, await store.get(key));
  return path;
}
