// The labeled data of the LLM stages: S_train and S_eval as (document text, query text) pairs, read from the
// prepared BEIR files (corpus, queries and the two qrels). Prompt tuning trains on S_train and stops early on
// S_eval; the example filter draws its candidate groups from S_train (by index) and scores them on S_eval.
import { CorruptArtifactError } from '../../common/errors.ts';
import { loadQrels, loadQueries, readCorpus } from '../beir/index.ts';
import type { ExamplePair } from '../weak-data/index.ts';
import { documentString } from './weak-query-writer.ts';

/** Local paths of the prepared files the labeled pairs come from. */
export interface LabeledDataFiles {
  readonly corpus: string;
  readonly queries: string;
  readonly sTrain: string;
  readonly sEval: string;
}

export interface LabeledData {
  /** S_train's pairs in qrels order: example groups are indices into it. */
  readonly train: readonly ExamplePair[];
  readonly evalPairs: readonly ExamplePair[];
}

/** S_train and S_eval as (document text, query text) pairs, in qrels order. */
export async function readLabeledData(files: LabeledDataFiles): Promise<LabeledData> {
  const queries = (await loadQueries(files.queries)).value;
  const pairs = async (path: string) => {
    const out: { q: string; d: string }[] = [];
    for (const [q, docs] of (await loadQrels(path)).value) for (const d of docs.keys()) out.push({ q, d });
    return out;
  };
  const train = await pairs(files.sTrain);
  const evalPairs = await pairs(files.sEval);
  const needed = new Set([...train, ...evalPairs].map((x) => x.d));
  const docs = new Map<string, string>();
  for await (const row of readCorpus(files.corpus)) if (needed.has(row._id)) docs.set(row._id, documentString(row));
  const toPair = (x: { q: string; d: string }): ExamplePair => {
    const document = docs.get(x.d);
    const query = queries.get(x.q);
    if (document === undefined || query === undefined) throw new CorruptArtifactError(`labeled pair (${x.q}, ${x.d}) has no text in the prepared corpus/queries`);
    return { document, query };
  };
  return { train: train.map(toPair), evalPairs: evalPairs.map(toPair) };
}

/** The S_train pairs of one example group (indices into S_train). */
export function groupExamples(train: readonly ExamplePair[], group: readonly number[]): ExamplePair[] {
  return group.map((i) => {
    const e = train[i];
    if (!e) throw new CorruptArtifactError(`example group index ${i} is outside S_train (${train.length} pairs)`);
    return e;
  });
}
