// The prepare stage: reads a BEIR dataset once, normalises it, makes the seeded SPTAR splits and lays D_unlabeled
// out in shards, all as local files in a scratch directory. The activity uploads them; nothing here knows the store.
import { createHash } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../common/errors.ts';
import { isPathInsideFolder } from '../../common/pipeline-config.ts';
import type { PrepareConfig } from '../../common/stage-configs.ts';
import { hashFile } from '../artifact-store/artifact-store.ts';
import { LineWriter, loadQrels, loadQueries, readCorpus, readSourceCorpus, writeQrels, writeQueries } from '../beir/index.ts';
import { resolveInDataRoots, type DataRoots } from '../data-roots/data-roots.ts';
import { makeSptarSplits } from '../splits/sptar-splits.ts';

export interface DatasetFiles {
  readonly corpus: string;
  readonly queries: string;
  readonly trainQrels: string;
  readonly testQrels: string;
}

/** The dataset's four files; relative paths resolve against the working directory. */
export function datasetFiles(dataset: PrepareConfig['dataset']): DatasetFiles {
  const root = resolve(dataset.path);
  return {
    corpus: join(root, 'corpus.jsonl'),
    queries: join(root, 'queries.jsonl'),
    trainQrels: join(root, dataset.trainQrels),
    testQrels: join(root, dataset.testQrels),
  };
}

/**
 * The dataset's files as a worker may open them: a ConfigError naming the config field when dataset.path lies outside
 * the data roots or a qrels path leaves dataset.path (checked again here: activity input need not have been parsed).
 */
export function datasetFilesInRoots(dataset: PrepareConfig['dataset'], roots: DataRoots): DatasetFiles {
  resolveInDataRoots('dataset.path', dataset.path, roots);
  for (const field of ['trainQrels', 'testQrels'] as const) {
    if (!isPathInsideFolder(dataset[field])) {
      throw new ConfigError(`dataset.${field}: expected a file path relative to dataset.path that stays inside it (no absolute path, no '..' above it), got ${JSON.stringify(dataset[field])}`);
    }
  }
  return datasetFiles(dataset);
}

/** Fails with a ConfigError naming the first missing file. */
export async function requireDatasetFiles(dataset: PrepareConfig['dataset'], files: DatasetFiles): Promise<void> {
  for (const [what, path] of Object.entries(files)) {
    try {
      await access(path);
    } catch {
      throw new ConfigError(`dataset.path ${resolve(dataset.path)}: ${what} file ${path} is missing; point dataset.path at a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)`);
    }
  }
}

/** sha256 over the bytes of every input file: a changed dataset never reuses old splits. */
export async function datasetFingerprint(files: DatasetFiles): Promise<string> {
  const fingerprint = createHash('sha256');
  for (const path of Object.values(files)) fingerprint.update((await hashFile(path)).sha256);
  return fingerprint.digest('hex');
}

/** Per-document content hashes (`id \t sha256`), as the prepare stage writes them. */
export function parseDocHashes(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [id, hash] = line.split('\t');
    if (id && hash) map.set(id, hash);
  }
  return map;
}

/**
 * The doc-hashes TSV without the given documents: what a run records as done when some of its documents got no
 * weak query (their shard failed), so the next incremental run treats them as new and generates them.
 */
export function withoutDocuments(hashesText: string, notDone: ReadonlySet<string>): { text: string; removed: number } {
  let removed = 0;
  const kept: string[] = [];
  for (const line of hashesText.split('\n')) {
    if (!line) continue;
    const id = line.slice(0, line.indexOf('\t'));
    if (notDone.has(id)) removed++;
    else kept.push(line);
  }
  return { text: kept.length > 0 ? `${kept.join('\n')}\n` : '', removed };
}

/** Document ids of a shard of BEIR corpus rows; rows that do not parse carry no id (they were recorded as failures). */
export function shardDocumentIds(shardText: string): string[] {
  const ids: string[] = [];
  for (const line of shardText.split('\n')) {
    if (!line.trim()) continue;
    try {
      const id = (JSON.parse(line) as { _id?: unknown })._id;
      if (typeof id === 'string') ids.push(id);
    } catch {
      // A malformed row: generation recorded it as that document's failure.
    }
  }
  return ids;
}

export interface PreparedFiles {
  readonly corpus: string;
  readonly queries: string;
  readonly sTrain: string;
  readonly sEval: string;
  readonly testQrels: string;
  readonly docHashes: string;
  /** Rejected rows of every file (onBadRow 'skip'), or null when none. */
  readonly rejects: string | null;
  /** D_unlabeled's shards in order, each `shardSize` documents (the last one fewer). */
  readonly shards: readonly string[];
  readonly counts: {
    readonly documents: number;
    readonly queries: number;
    readonly sTrainPairs: number;
    readonly sEvalQueries: number;
    readonly testQueries: number;
    readonly unlabeledDocuments: number;
    readonly unchangedSinceLastRun: number;
    readonly rejectedRows: number;
  };
}

/**
 * Reads the dataset into `dir`. `previousHashes` (incremental runs): unjudged documents whose content hash equals the
 * last successful run's are left out of D_unlabeled.
 */
export async function prepareDataset(
  config: PrepareConfig,
  files: DatasetFiles,
  dir: string,
  previousHashes: ReadonlyMap<string, string> | null,
  progress: (details: Record<string, unknown>) => void,
): Promise<PreparedFiles> {
  const readOptions = (name: string) => ({ onBadRow: config.dataset.onBadRow, rejectsPath: join(dir, `rejects-${name}.jsonl`) });
  const trainQrels = await loadQrels(files.trainQrels, readOptions('train-qrels'));
  const testQrels = await loadQrels(files.testQrels, readOptions('test-qrels'));
  const queries = await loadQueries(files.queries, readOptions('queries'));
  progress({ step: 'qrels and queries read' });

  // Pass 1: normalised corpus, per-document content hashes, ids.
  const corpusPath = join(dir, 'corpus.jsonl');
  const hashesPath = join(dir, 'doc-hashes.tsv');
  const corpusOut = new LineWriter(corpusPath);
  const hashesOut = new LineWriter(hashesPath);
  const ids: string[] = [];
  const corpusReader = readSourceCorpus(files.corpus, readOptions('corpus'));
  for await (const row of corpusReader) {
    await corpusOut.writeLine(JSON.stringify({ _id: row._id, title: row.title, text: row.text }));
    await hashesOut.writeLine(`${row._id}\t${createHash('sha256').update(`${row.title}\n${row.text}`).digest('hex')}`);
    ids.push(row._id);
    if (ids.length % 100_000 === 0) progress({ step: 'corpus', documents: ids.length });
  }
  await corpusOut.close();
  await hashesOut.close();

  const splits = makeSptarSplits(trainQrels.value, testQrels.value, ids, {
    seed: config.seed,
    trainPairs: config.splits.trainPairs,
    evalQueries: config.splits.evalQueries,
    unlabeledLimit: config.splits.unlabeledLimit,
  });

  const unlabeled = new Set(splits.dUnlabeled);
  let unchanged = 0;
  if (previousHashes) {
    for (const [id, hash] of parseDocHashes(await readFile(hashesPath, 'utf8'))) {
      if (unlabeled.has(id) && previousHashes.get(id) === hash) {
        unlabeled.delete(id);
        unchanged++;
      }
    }
  }

  // Pass 2: D_unlabeled into shards of shardSize documents, in corpus order.
  const shards: string[] = [];
  let unlabeledDocs = 0;
  let shard: LineWriter | undefined;
  let inShard = 0;
  for await (const row of readCorpus(corpusPath)) {
    if (!unlabeled.has(row._id)) continue;
    if (!shard) {
      const path = join(dir, `unlabeled-${shards.length}.jsonl`);
      shards.push(path);
      shard = new LineWriter(path);
    }
    await shard.writeLine(JSON.stringify({ _id: row._id, title: row.title, text: row.text }));
    unlabeledDocs++;
    if (++inShard >= config.generation.shardSize) {
      await shard.close();
      shard = undefined;
      inShard = 0;
    }
  }
  if (shard) await shard.close();

  const qrelRows = (pairs: readonly { queryId: string; docId: string }[]) => pairs.map((p) => ({ queryId: p.queryId, docId: p.docId, score: 1 }));
  const out = { sTrain: join(dir, 's-train.tsv'), sEval: join(dir, 's-eval.tsv'), testQrels: join(dir, 'test.tsv'), queries: join(dir, 'queries.jsonl') };
  await writeQrels(out.sTrain, qrelRows(splits.sTrain));
  await writeQrels(out.sEval, qrelRows(splits.sEval));
  await writeQrels(
    out.testQrels,
    [...testQrels.value].flatMap(([queryId, docs]) => [...docs].map(([docId, score]) => ({ queryId, docId, score }))),
  );
  await writeQueries(out.queries, [...queries.value].map(([_id, text]) => ({ _id, text })));

  const rejected = [trainQrels, testQrels, queries].reduce((n, l) => n + l.stats.skipped, 0) + corpusReader.stats.skipped;
  let rejects: string | null = null;
  if (rejected > 0) {
    const parts: string[] = [];
    for (const name of ['corpus', 'queries', 'train-qrels', 'test-qrels']) {
      try {
        parts.push(await readFile(join(dir, `rejects-${name}.jsonl`), 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // no rejects from this file
      }
    }
    rejects = join(dir, 'rejects.jsonl');
    await writeFile(rejects, parts.join(''));
  }

  return {
    corpus: corpusPath,
    ...out,
    docHashes: hashesPath,
    rejects,
    shards,
    counts: {
      documents: ids.length,
      queries: queries.value.size,
      sTrainPairs: splits.sTrain.length,
      sEvalQueries: new Set(splits.sEval.map((p) => p.queryId)).size,
      testQueries: splits.dTestQueries.length,
      unlabeledDocuments: unlabeledDocs,
      unchangedSinceLastRun: unchanged,
      rejectedRows: rejected,
    },
  };
}
