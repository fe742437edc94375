// Small BEIR files loaded into maps (queries, qrels, runs). The corpus is always streamed instead.
import { DataFormatError } from '../../common/errors.ts';
import { readQrels, readQueries, readRun } from './beir-readers.ts';
import type { RowReadOptions, RowReadStats } from './row-reader.ts';

/** query id -> document id -> relevance grade. */
export type Qrels = Map<string, Map<string, number>>;
/** query id -> document id -> retrieval score. */
type Run = Map<string, Map<string, number>>;

interface Loaded<T> {
  readonly value: T;
  readonly stats: RowReadStats;
}

/** Query id -> text. A repeated id is a data error: two texts for one query cannot both be right. */
export async function loadQueries(path: string, options?: RowReadOptions): Promise<Loaded<Map<string, string>>> {
  const reader = readQueries(path, options);
  const value = new Map<string, string>();
  for await (const row of reader) {
    if (value.has(row._id)) throw new DataFormatError(`${path}: query id "${row._id}" appears twice; remove the duplicate row`);
    value.set(row._id, row.text);
  }
  return { value, stats: reader.stats };
}

function addPair(target: Map<string, Map<string, number>>, path: string, queryId: string, docId: string, value: number, what: string): void {
  let inner = target.get(queryId);
  if (!inner) target.set(queryId, (inner = new Map()));
  if (inner.has(docId)) throw new DataFormatError(`${path}: ${what} for query "${queryId}" and document "${docId}" appears twice; remove the duplicate row`);
  inner.set(docId, value);
}

export async function loadQrels(path: string, options?: RowReadOptions): Promise<Loaded<Qrels>> {
  const reader = readQrels(path, options);
  const value: Qrels = new Map();
  for await (const row of reader) addPair(value, path, row.queryId, row.docId, row.score, 'a judgement');
  return { value, stats: reader.stats };
}

/** Ranks in the file are ignored, as trec_eval ignores them: order comes from the scores. */
export async function loadRun(path: string, options?: RowReadOptions): Promise<Loaded<Run>> {
  const reader = readRun(path, options);
  const value: Run = new Map();
  for await (const row of reader) addPair(value, path, row.queryId, row.docId, row.score, 'a score');
  return { value, stats: reader.stats };
}
