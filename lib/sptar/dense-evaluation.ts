// Evaluating a dense system (the starting encoder zero-shot, or a trained retriever) on the test queries, as one
// function of its config slice, the encoder and the data: the corpus encoded (or its stored embeddings), every test
// query retrieved exactly, and the run scored with SPTAR's metrics.
import type { ProgressBeat } from '../../common/activity-progress.ts';
import type { Metrics } from '../../common/pipeline-stages.ts';
import { encoderPrecision, precisionKey, type DenseEvaluationConfig } from '../../common/stage-configs.ts';
import type { RankedList } from '../beir/index.ts';
import { evaluateRun, rankForTrecEval, TEST_RUN_DEPTH, testMetrics } from '../metrics/index.ts';
import { fuseMinMax } from '../retrieval/hybrid-fusion.ts';
import { encoderMaxLength, type EncoderModel } from '../models/encoder-source.ts';
import type { BertConfig } from '../models/model-config.ts';
import type { SessionPlace } from '../models/model-sessions.ts';
import type { EmbeddingMatrix } from '../retrieval/dense-search.ts';
import { encodeCorpus, queriesWithText, retrieveAndEvaluate } from '../retrieval/dense-retrieval.ts';
import { DenseEncoder } from './dense-encoder.ts';
import type { CorpusTexts } from './retriever-data.ts';

/**
 * What identifies an encoder's embeddings: its weights, input length, pooling and, for int8, its precision (the key
 * of stored embeddings and evaluations; fp32 keys are as they were before int8 existed).
 */
export function denseSettings(config: DenseEvaluationConfig, encoder: BertConfig, encoderId: string) {
  return { encoder: encoderId, maxLength: encoderMaxLength(config, encoder), pooling: 'mean-l2', ...precisionKey(config) } as const;
}

export interface DenseEvaluationData {
  /** The corpus texts to encode, or the stored embeddings of the same encoder and settings. */
  readonly corpus: CorpusTexts | EmbeddingMatrix;
  readonly queryTexts: ReadonlyMap<string, string>;
  readonly qrels: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface DenseEvaluationHooks {
  /** Progress in texts encoded: the corpus (unless its embeddings are given), then the test queries. */
  readonly heartbeat?: ProgressBeat;
  /** Where the encoder's graph is built (a trained encoder's is used once: scratch space). */
  readonly place?: SessionPlace;
  /** Called as soon as the corpus is encoded (not with stored embeddings), e.g. to store the embeddings. */
  readonly onCorpusEncoded?: (embeddings: EmbeddingMatrix) => Promise<void>;
}

export interface DenseEvaluation {
  readonly lists: RankedList[];
  readonly evaluation: ReturnType<typeof evaluateRun>;
  readonly metrics: Metrics;
  readonly embeddings: EmbeddingMatrix;
}

type RunScores = ReadonlyMap<string, ReadonlyMap<string, number>>;

const isEmbeddings = (c: CorpusTexts | EmbeddingMatrix): c is EmbeddingMatrix => 'data' in c;

export async function evaluateDenseStage(config: DenseEvaluationConfig, model: EncoderModel, data: DenseEvaluationData, hooks: DenseEvaluationHooks = {}): Promise<DenseEvaluation> {
  const heartbeat: ProgressBeat = hooks.heartbeat ?? (() => undefined);
  const queries = queriesWithText(data.qrels.keys(), data.queryTexts);
  const corpusTexts = isEmbeddings(data.corpus) ? 0 : data.corpus.texts.length;
  const beat = (task: string, done: number): void => heartbeat({ stage: 'evaluate', task, unit: 'texts', done, total: corpusTexts + queries.length });
  beat('building the encoder graph', 0);
  const encoder = await DenseEncoder.open(model.weights, model.config, model.tokenizer, encoderMaxLength(config, model.config), hooks.place, { precision: encoderPrecision(config) });
  try {
    let embeddings: EmbeddingMatrix;
    if (isEmbeddings(data.corpus)) embeddings = data.corpus;
    else {
      embeddings = await encodeCorpus(encoder, data.corpus, (done) => beat('encoding the corpus', done));
      await hooks.onCorpusEncoded?.(embeddings);
    }
    const { lists, evaluation } = await retrieveAndEvaluate(encoder, embeddings, queries, data.qrels, (done) => beat('encoding the test queries', corpusTexts + done));
    return { lists, evaluation, metrics: testMetrics(evaluation), embeddings };
  } finally {
    await encoder.release();
  }
}

/** BM25's run fused with a dense run (min-max normalised scores, `denseWeight` on the dense side), evaluated. */
export function evaluateHybridStage(qrels: RunScores, bm25: RunScores, dense: RunScores, denseWeight: number): Omit<DenseEvaluation, 'embeddings'> {
  const fused = fuseMinMax(bm25, dense, denseWeight, TEST_RUN_DEPTH);
  const lists: RankedList[] = [...fused].map(([queryId, scores]) => ({ queryId, hits: rankForTrecEval(scores).map((d) => ({ id: d.id, score: d.score })) }));
  const evaluation = evaluateRun(qrels, fused);
  return { lists, evaluation, metrics: testMetrics(evaluation) };
}
