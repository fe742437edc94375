// The data the dense retriever learns from: the prepared corpus and queries, the labeled judgements (S_train +
// S_eval), the dev split that selects the epoch, and the training pairs, labeled and weak. The pipeline's training
// stage and the retriever sweep assemble their pairs with these very functions, so a sweep trains what the pipeline
// trains.
import { ConfigError, DataFormatError } from '../../common/errors.ts';
import type { PreparedData } from '../../common/pipeline-stages.ts';
import type { RetrieverConfig } from '../../common/stage-configs.ts';
import { weakPairRowSchema } from '../../common/retriever-types.ts';
import { loadQrels, loadQueries, readCorpus } from '../beir/index.ts';
import { parseJsonlLines } from '../beir/jsonl-rows.ts';
import { createPrng, shuffled } from '../random/prng.ts';
import { queriesWithText, type QueryText } from '../retrieval/dense-retrieval.ts';
import { mineBm25Negatives, positivesByQuery } from './hard-negatives.ts';
import type { TrainingPair } from './retriever-training.ts';

/** query id -> document id -> relevance grade. */
export type Judgements = ReadonlyMap<string, ReadonlyMap<string, number>>;

/** Document texts (title and text) in corpus order, with each id's position. */
export interface CorpusTexts {
  readonly ids: string[];
  readonly texts: string[];
  readonly position: Map<string, number>;
}

export async function loadCorpusTexts(path: string): Promise<CorpusTexts> {
  const ids: string[] = [];
  const texts: string[] = [];
  const position = new Map<string, number>();
  for await (const row of readCorpus(path)) {
    position.set(row._id, ids.length);
    ids.push(row._id);
    texts.push(`${row.title ?? ''} ${row.text}`.trim());
  }
  return { ids, texts, position };
}

/** S_train + S_eval judgements merged (positive grades only): the labeled data the retriever may learn from. */
export function mergeLabeled(a: Judgements, b: Judgements): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const qrels of [a, b]) {
    for (const [qid, docs] of qrels) {
      for (const [docId, grade] of docs) {
        if (grade <= 0) continue;
        let inner = out.get(qid);
        if (!inner) out.set(qid, (inner = new Map()));
        inner.set(docId, Math.max(grade, inner.get(docId) ?? 0));
      }
    }
  }
  return out;
}

/** Dev queries: a seeded share of the labeled queries, at least one, and never all of them. */
export function devQueryIds(labeledQueryIds: Iterable<string>, fraction: number, seed: number): Set<string> {
  const ids = [...labeledQueryIds].sort();
  if (ids.length < 2) throw new ConfigError(`retriever training needs at least 2 labeled queries (one for training, one for the dev split), got ${ids.length}; raise splits.trainPairs or splits.evalQueries`);
  const count = Math.min(ids.length - 1, Math.max(1, Math.round(fraction * ids.length)));
  return new Set(shuffled(ids, createPrng(seed, 'retriever-dev')).slice(0, count));
}

/**
 * The documents dev queries search each epoch: the whole corpus, or (to bound the cost of an epoch on a large
 * corpus) every document judged for a dev query plus a seeded sample of the others, `size` in all.
 */
export function devCorpusOf(corpus: CorpusTexts, devQrels: Judgements, size: number | null, seed: number, distractors: Iterable<string> = []): CorpusTexts {
  if (size === null || size >= corpus.ids.length) return corpus;
  const judged = new Set<string>();
  for (const docs of devQrels.values()) for (const docId of docs.keys()) judged.add(docId);
  // Hard distractors (the dev queries' BM25 top documents) join the judged ones before the sample fills the rest.
  for (const docId of distractors) if (corpus.position.has(docId)) judged.add(docId);
  const others = shuffled(corpus.ids.filter((id) => !judged.has(id)), createPrng(seed, 'retriever-dev-corpus'));
  const keep = new Set([...judged, ...others.slice(0, Math.max(0, size - judged.size))]);
  const ids: string[] = [];
  const texts: string[] = [];
  const position = new Map<string, number>();
  corpus.ids.forEach((id, i) => {
    if (!keep.has(id)) return;
    position.set(id, ids.length);
    ids.push(id);
    texts.push(corpus.texts[i]!);
  });
  return { ids, texts, position };
}

/** The labeled queries that select the epoch, their judgements and the documents they search. */
export interface DevSplit {
  readonly queryIds: ReadonlySet<string>;
  /** Dev queries with their texts, sorted by id. */
  readonly queries: readonly QueryText[];
  readonly qrels: Map<string, ReadonlyMap<string, number>>;
  readonly corpus: CorpusTexts;
}

/** What choosing the dev split may read beyond the labeled data: S_eval's queries and a BM25 search. */
export interface DevSplitSources {
  /** S_eval's query ids ('s-eval' dev queries). */
  readonly sEvalQueries?: ReadonlySet<string>;
  /** BM25 over the corpus: the dev queries' hard distractors (retriever.devCandidates), hard negatives, fusion. */
  readonly search?: (query: string, k: number) => readonly { readonly id: string; readonly score: number }[];
}

export function devSplitOf(
  config: Pick<RetrieverConfig, 'retriever' | 'seed'>,
  labeled: Judgements,
  queryTexts: ReadonlyMap<string, string>,
  corpus: CorpusTexts,
  sources: DevSplitSources = {},
): DevSplit {
  const r = config.retriever;
  let queryIds: Set<string>;
  if (r.devQueries === 's-eval') {
    const sEval = sources.sEvalQueries;
    if (sEval === undefined) throw new ConfigError("retriever.devQueries 's-eval' needs S_eval's queries, which this caller did not give");
    queryIds = new Set([...sEval].filter((q) => labeled.has(q)).sort());
    if (queryIds.size === 0) throw new ConfigError("retriever.devQueries 's-eval': S_eval has no query with a relevant document; raise splits.evalQueries");
    if (queryIds.size >= labeled.size) throw new ConfigError("retriever.devQueries 's-eval' leaves no labeled query to train on; raise splits.trainPairs");
  } else queryIds = devQueryIds(labeled.keys(), r.devFraction, config.seed);
  const qrels = new Map([...queryIds].map((qid) => [qid, labeled.get(qid)!]));
  const queries = queriesWithText(queryIds, queryTexts);
  let distractors: string[] = [];
  if (r.devCandidates !== null && r.devCorpusSize !== null) {
    const search = sources.search;
    if (search === undefined) throw new ConfigError('retriever.devCandidates needs the BM25 index, which this caller did not give');
    distractors = queries.flatMap((q) => search(q.text, r.devCandidates!).map((h) => h.id));
  }
  return { queryIds, queries, qrels, corpus: devCorpusOf(corpus, qrels, r.devCorpusSize, config.seed, distractors) };
}

/** One kept weak pair and the line of its artifact, for error messages. */
export interface WeakPair {
  readonly query: string;
  readonly docId: string;
  /** BM25 rank of the document for its own query. */
  readonly rank: number;
  readonly line: number;
}

/** The kept weak pairs of one artifact (one run's augmentation), named by their source for error messages. */
export interface WeakPairGroup {
  readonly source: string;
  readonly rows: readonly WeakPair[];
}

/** Kept weak pairs, JSONL rows of `weakPairRowSchema` as the BM25 filter writes them; a bad row is a DataFormatError. */
export function parseWeakPairs(bytes: Uint8Array, source: string): WeakPairGroup {
  const rows = parseJsonlLines(bytes, source, weakPairRowSchema, { error: DataFormatError, expected: 'weak pairs are JSONL rows {"queryId", "docId", "query", "rank"}' });
  return { source, rows: rows.map(({ line, row }) => ({ query: row.query, docId: row.docId, rank: row.rank, line })) };
}

/**
 * Training pairs: query keys are `labeled:<query id>` or `weak:<query text>`, so the same query never meets itself
 * as an in-batch negative; doc keys are corpus ids. `texts` maps each query key to its text.
 */
export interface TrainingPairs {
  readonly labeled: readonly TrainingPair[];
  readonly weak: readonly TrainingPair[];
  readonly texts: ReadonlyMap<string, string>;
}

export interface TrainingPairSources {
  /** Judgements to learn from, positive grades only (see mergeLabeled). */
  readonly labeled: Judgements;
  /** Labeled queries never trained on (the dev split; a benchmark adds the test queries). */
  readonly heldOut: ReadonlySet<string>;
  readonly queryTexts: ReadonlyMap<string, string>;
  readonly corpus: { readonly position: ReadonlyMap<string, number> };
  /** Kept weak pairs, newest first; empty for the W/O baseline. */
  readonly weak: readonly WeakPairGroup[];
  /** Names of the labeled judgements and the queries, for error messages. */
  readonly names: { readonly labeled: string; readonly queries: string };
}

/**
 * The pairs the retriever trains on. Labeled: every judged document of every labeled query not held out, queries
 * and documents in id order. Weak: the groups' rows in order; groups come newest first (incremental runs merge
 * earlier runs' pairs), and a document re-augmented by a newer group keeps only its newer queries. A (query key,
 * document) pair is kept once. A labeled query without text or a document missing from the corpus is a
 * DataFormatError naming its source: the pairs belong to other data.
 */
export function assembleTrainingPairs(sources: TrainingPairSources): TrainingPairs {
  const { corpus, names } = sources;
  const texts = new Map<string, string>();
  const seen = new Set<string>();
  const add = (out: TrainingPair[], queryKey: string, text: string, docId: string) => {
    const k = `${queryKey}\u0000${docId}`;
    if (seen.has(k)) return;
    seen.add(k);
    texts.set(queryKey, text);
    out.push({ queryId: queryKey, docId });
  };

  const labeled: TrainingPair[] = [];
  for (const qid of [...sources.labeled.keys()].sort()) {
    if (sources.heldOut.has(qid)) continue;
    const text = sources.queryTexts.get(qid);
    if (text === undefined) throw new DataFormatError(`${names.queries}: labeled query "${qid}" has no text; the prepared queries and qrels disagree`);
    for (const docId of [...sources.labeled.get(qid)!.keys()].sort()) {
      if (!corpus.position.has(docId)) throw new DataFormatError(`${names.labeled}: labeled document "${docId}" is not in the prepared corpus`);
      add(labeled, `labeled:${qid}`, text, docId);
    }
  }

  const weak: TrainingPair[] = [];
  const augmented = new Set<string>();
  for (const group of sources.weak) {
    for (const row of group.rows) {
      if (!corpus.position.has(row.docId)) throw new DataFormatError(`${group.source}:${row.line}: document "${row.docId}" is not in the prepared corpus; the weak pairs belong to another dataset`);
    }
    for (const row of group.rows) if (!augmented.has(row.docId)) add(weak, `weak:${row.query}`, row.query, row.docId);
    for (const row of group.rows) augmented.add(row.docId);
  }
  return { labeled, weak, texts };
}

/** The names errors give the prepared queries and labeled judgements: their artifact keys. */
export const preparedNames = (prepared: Pick<PreparedData, 'queries' | 'sTrain' | 'sEval'>): TrainingPairSources['names'] => ({
  queries: prepared.queries.key,
  labeled: `${prepared.sTrain.key}/${prepared.sEval.key}`,
});

/** Local paths of the prepared files retriever training reads. */
export interface RetrieverFiles {
  readonly corpus: string;
  readonly queries: string;
  readonly sTrain: string;
  readonly sEval: string;
}

/** The prepared corpus, the query texts and S_train + S_eval merged. */
export async function readRetrieverFiles(
  files: RetrieverFiles,
): Promise<{ corpus: CorpusTexts; queryTexts: Map<string, string>; labeled: Map<string, Map<string, number>>; sEvalQueries: Set<string> }> {
  const corpus = await loadCorpusTexts(files.corpus);
  const queryTexts = (await loadQueries(files.queries)).value;
  const sEval = (await loadQrels(files.sEval)).value;
  const labeled = mergeLabeled((await loadQrels(files.sTrain)).value, sEval);
  return { corpus, queryTexts, labeled, sEvalQueries: new Set(sEval.keys()) };
}

/** Everything the training stage reads: the corpus, the training pairs and the dev split. */
export interface RetrieverTrainingData {
  readonly corpus: CorpusTexts;
  readonly pairs: TrainingPairs;
  readonly dev: DevSplit;
  /** Mined hard negatives of each query key and every query key's positives (retriever.hardNegatives > 0). */
  readonly negatives?: { readonly mined: ReadonlyMap<string, readonly string[]>; readonly positives: ReadonlyMap<string, ReadonlySet<string>> };
  /** BM25's run of the dev queries over the dev corpus (retriever.hybrid): the fusion weight is chosen with it. */
  readonly devBm25?: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** The pipeline's training data: the dev split drawn from the labeled queries, the others' pairs and the weak pairs. */
export function retrieverTrainingData(
  config: Pick<RetrieverConfig, 'retriever' | 'seed'>,
  inputs: {
    readonly corpus: CorpusTexts;
    readonly queryTexts: ReadonlyMap<string, string>;
    readonly labeled: Judgements;
    readonly weak: readonly WeakPairGroup[];
    readonly names: TrainingPairSources['names'];
  } & DevSplitSources & {
    /** Seed of the negatives' draw (a training replicate's own seed; default the config's). */
    readonly seed?: number;
  },
): RetrieverTrainingData {
  const r = config.retriever;
  const dev = devSplitOf(config, inputs.labeled, inputs.queryTexts, inputs.corpus, inputs);
  const pairs = assembleTrainingPairs({ labeled: inputs.labeled, heldOut: dev.queryIds, queryTexts: inputs.queryTexts, corpus: inputs.corpus, weak: inputs.weak, names: inputs.names });
  const search = inputs.search;
  const needsIndex = r.hardNegatives > 0 || r.hybrid;
  if (needsIndex && search === undefined) throw new ConfigError('retriever.hardNegatives and retriever.hybrid need the BM25 index, which this caller did not give');
  let negatives: RetrieverTrainingData['negatives'];
  if (r.hardNegatives > 0) {
    const all = [...pairs.labeled, ...pairs.weak];
    negatives = {
      mined: mineBm25Negatives(search!, all, pairs.texts, { perPair: r.hardNegatives, depth: r.negativeDepth, seed: inputs.seed ?? config.seed }),
      positives: positivesByQuery(all),
    };
  }
  let devBm25: RetrieverTrainingData['devBm25'];
  if (r.hybrid) {
    // BM25 over the whole index, kept to the documents the dense dev search sees, so both rank the same pool.
    devBm25 = new Map(dev.queries.map((q) => [q.id, new Map(search!(q.text, DEV_FUSION_DEPTH).filter((h) => dev.corpus.position.has(h.id)).map((h) => [h.id, h.score]))]));
  }
  return { corpus: inputs.corpus, pairs, dev, ...(negatives ? { negatives } : {}), ...(devBm25 ? { devBm25 } : {}) };
}

/** Depth of the BM25 dev run that the fusion weight is chosen with (the test runs are as deep). */
const DEV_FUSION_DEPTH = 100;
