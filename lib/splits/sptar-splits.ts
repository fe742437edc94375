// SPTAR's data preparation: seeded, disjoint samples from a BEIR dataset.
//   S_train^X  X labeled (query, document) pairs, one per query, for prompt tuning
//   S_eval^Y   Y further queries with all their relevant documents, for early stopping and the example filter
//   D_unlabeled documents judged in no qrels at all (so no evaluation document is ever augmented), optionally a
//               seeded sample of them
//   D_test     the test qrels, untouched
// Each sample draws from its own generator stream of the one seed, so changing X does not reshuffle D_unlabeled.
// Inputs are sorted before any draw: the result depends only on the data and the seed, never on file order.
import { ConfigError } from '../../common/errors.ts';
import { createPrng, sampleWithoutReplacement, shuffled } from '../random/prng.ts';

type Judgements = ReadonlyMap<string, ReadonlyMap<string, number>>;

interface LabeledPair {
  readonly queryId: string;
  readonly docId: string;
}

interface SplitOptions {
  readonly seed: number;
  /** X: labeled pairs in S_train (one per query). */
  readonly trainPairs?: number;
  /** Y: queries in S_eval. */
  readonly evalQueries?: number;
  /** Cap on D_unlabeled; null or absent keeps every unjudged document. */
  readonly unlabeledLimit?: number | null;
}

interface SptarSplits {
  readonly sTrain: readonly LabeledPair[];
  /** Every relevant pair of the Y eval queries, grouped by query in draw order. */
  readonly sEval: readonly LabeledPair[];
  /** Sorted document ids. */
  readonly dUnlabeled: readonly string[];
  /** Sorted test query ids (their judgements stay in the test qrels). */
  readonly dTestQueries: readonly string[];
  readonly stats: {
    readonly trainQueriesAvailable: number;
    /** Train-qrels queries also in the test qrels: never used for training. */
    readonly trainQueriesAlsoInTest: number;
    readonly unjudgedDocuments: number;
  };
}

const relevantDocs = (judged: ReadonlyMap<string, number>): string[] =>
  [...judged].filter(([, grade]) => grade > 0).map(([doc]) => doc).sort();

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function makeSptarSplits(trainQrels: Judgements, testQrels: Judgements, corpusIds: Iterable<string>, options: SplitOptions): SptarSplits {
  const x = options.trainPairs ?? 50;
  const y = options.evalQueries ?? 100;
  const limit = options.unlabeledLimit ?? null;
  for (const [name, v] of [['splits.trainPairs', x], ['splits.evalQueries', y]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${v}`);
  }
  if (limit !== null && (!Number.isInteger(limit) || limit < 1)) throw new ConfigError(`splits.unlabeledLimit must be a positive integer or null, got ${limit}`);

  let alsoInTest = 0;
  const candidates: string[] = [];
  for (const [qid, judged] of trainQrels) {
    if (testQrels.has(qid)) {
      alsoInTest++;
      continue;
    }
    if (relevantDocs(judged).length > 0) candidates.push(qid);
  }
  candidates.sort(byCodeUnit);
  if (x + y > candidates.length) {
    throw new ConfigError(
      `splits need ${x} + ${y} distinct training queries with a relevant document, but the train qrels have ${candidates.length}; lower splits.trainPairs or splits.evalQueries`,
    );
  }
  const order = shuffled(candidates, createPrng(options.seed, 'splits/queries'));
  const pick = createPrng(options.seed, 'splits/train-documents');
  const sTrain = order.slice(0, x).map((queryId) => {
    const docs = relevantDocs(trainQrels.get(queryId)!);
    return { queryId, docId: docs[pick.int(docs.length)]! };
  });
  const sEval = order.slice(x, x + y).flatMap((queryId) => relevantDocs(trainQrels.get(queryId)!).map((docId) => ({ queryId, docId })));

  const judgedDocs = new Set<string>();
  for (const qrels of [trainQrels, testQrels]) for (const judged of qrels.values()) for (const doc of judged.keys()) judgedDocs.add(doc);
  const unjudged = [...new Set(corpusIds)].filter((id) => !judgedDocs.has(id)).sort(byCodeUnit);
  const dUnlabeled =
    limit === null || limit >= unjudged.length ? unjudged : sampleWithoutReplacement(unjudged, limit, createPrng(options.seed, 'splits/unlabeled')).sort(byCodeUnit);

  return {
    sTrain,
    sEval,
    dUnlabeled,
    dTestQueries: [...testQrels.keys()].sort(byCodeUnit),
    stats: { trainQueriesAvailable: candidates.length, trainQueriesAlsoInTest: alsoInTest, unjudgedDocuments: unjudged.length },
  };
}
