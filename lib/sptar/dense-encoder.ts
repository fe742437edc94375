// The dense retriever's encoder: mean-pooled, L2-normalised sentence embeddings (cosine = dot product), and the
// in-batch-negatives training step with gradients for every encoder weight, both on the ONNX engine.
import { ENCODER_NAMES, type EncoderPrecision } from '../models/encoder-graphs.ts';
import type { BertConfig, WeightMap, WeightTensor } from '../models/model-config.ts';
import { openEncoderSession, openEncoderTrainingSession, type SessionPlace } from '../models/model-sessions.ts';
import { hostTensor, type ModelSession } from '../onnx/session.ts';
import { bertRows, encodeBertBatch, packBertRows } from '../tokenizers/bert-batch-encoding.ts';
import type { TextTokenizer } from '../tokenizers/text-tokenizer.ts';

const toInt64 = (a: Int32Array) => BigInt64Array.from(a, (v) => BigInt(v));

export interface DenseEncoderOptions {
  /** 'fp32' (default) or 'int8' Linear layers (see EncoderGraphOptions.precision). */
  readonly precision?: EncoderPrecision;
  /**
   * onnxruntime's fused LayerNormalization, Gelu and MultiHeadAttention kernels (default true); false writes the
   * same maths in primitives, as the training graph does (benchmarks compare the two).
   */
  readonly fusedKernels?: boolean;
}

/** Batches per window of texts sorted by token length in `encode`: a corpus's token ids are never all held at once. */
const SORT_WINDOW_BATCHES = 64;

export class DenseEncoder {
  private constructor(
    private readonly session: ModelSession,
    private readonly tokenizer: TextTokenizer,
    readonly dim: number,
    private readonly maxLength: number,
  ) {}

  /**
   * The session runs in a worker thread unless `place.worker` is false, so encoding never stalls heartbeats.
   * `precision` 'int8' quantizes the Linear layers' weights per output channel as the graph is built and their
   * inputs per tensor at run time (inference only; training always computes in float32).
   */
  static async open(weights: WeightMap, cfg: BertConfig, tokenizer: TextTokenizer, maxLength: number, place: SessionPlace = {}, options: DenseEncoderOptions = {}): Promise<DenseEncoder> {
    const precision = options.precision ?? 'fp32';
    const graph = { normalize: true, fusedKernels: options.fusedKernels ?? true, ...(precision === 'int8' ? { precision } : {}) };
    const session = await openEncoderSession(weights, cfg, graph, { worker: true, ...place });
    return new DenseEncoder(session, tokenizer, cfg.hiddenSize, maxLength);
  }

  /**
   * Row-major [texts.length, dim] unit vectors, in the order of `texts`. The texts are encoded in batches of
   * similar token length (sorted by it within windows of SORT_WINDOW_BATCHES batches, so only one window's token ids
   * are held at a time however large the corpus), so little of a batch is padding; batches are small so no single
   * run blocks for long. `onBatch` gets the count of texts encoded so far.
   */
  async encode(texts: readonly string[], batchSize = 32, onBatch?: (done: number) => void): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    const window = batchSize * SORT_WINDOW_BATCHES;
    for (let w = 0; w < texts.length; w += window) {
      const rows = bertRows(this.tokenizer, texts.slice(w, w + window), this.maxLength);
      // Stable: texts of equal length keep their order.
      const order = [...rows.keys()].sort((a, b) => rows[a]!.length - rows[b]!.length);
      for (let i = 0; i < order.length; i += batchSize) {
        const members = order.slice(i, i + batchSize);
        const batch = packBertRows(
          members.map((m) => rows[m]!),
          this.tokenizer.special.pad!,
          { maxLength: this.maxLength },
        );
        const dims = [batch.batchSize, batch.seqLen];
        const res = await this.session.run({
          [ENCODER_NAMES.inputIds]: hostTensor('int64', dims, toInt64(batch.inputIds)),
          [ENCODER_NAMES.attentionMask]: hostTensor('int64', dims, toInt64(batch.attentionMask)),
          [ENCODER_NAMES.tokenTypeIds]: hostTensor('int64', dims, toInt64(batch.tokenTypeIds)),
        });
        const vectors = res[ENCODER_NAMES.embedding]!.data as Float32Array;
        members.forEach((m, j) => out.set(vectors.subarray(j * this.dim, (j + 1) * this.dim), (w + m) * this.dim));
        onBatch?.(Math.min(texts.length, w + i + batchSize));
      }
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** One training step of the multiple-negatives ranking loss; weights are inputs so an optimiser can own them. */
export class EncoderTrainer {
  private constructor(
    private readonly session: ModelSession,
    private readonly tokenizer: TextTokenizer,
    readonly weightNames: readonly string[],
    private readonly shapes: ReadonlyMap<string, readonly number[]>,
    private readonly maxLength: number,
  ) {}

  /**
   * The session runs in a worker thread unless `place.worker` is false: one real training step at batch 32 takes
   * tens of seconds, all of it an event-loop stall on the JS thread.
   */
  static async open(weights: WeightMap, cfg: BertConfig, tokenizer: TextTokenizer, options: { scale: number; maxLength: number }, place: SessionPlace = {}): Promise<EncoderTrainer> {
    const { session, weightNames } = await openEncoderTrainingSession(weights, cfg, { scale: options.scale }, { worker: true, ...place });
    const shapes = new Map(weightNames.map((n) => [n, weights.get(n)!.dims]));
    return new EncoderTrainer(session, tokenizer, weightNames, shapes, options.maxLength);
  }

  /** The trainable tensors of a weight map, in `weightNames` order (copies, so training never mutates the input). */
  trainable(weights: WeightMap): Float32Array[] {
    return this.weightNames.map((n) => Float32Array.from(weights.get(n)!.data));
  }

  /** A weight map with the trained tensors in place of the originals. */
  withTrained(weights: WeightMap, trained: readonly Float32Array[]): Map<string, WeightTensor> {
    const out = new Map(weights);
    this.weightNames.forEach((n, i) => out.set(n, { dims: this.shapes.get(n)!, data: trained[i]! }));
    return out;
  }

  async lossAndGradients(weights: readonly Float32Array[], queries: readonly string[], docs: readonly string[]): Promise<{ loss: number; gradients: Float32Array[] }> {
    const q = encodeBertBatch(this.tokenizer, queries, { maxLength: this.maxLength });
    const d = encodeBertBatch(this.tokenizer, docs, { maxLength: this.maxLength });
    const feeds: Record<string, ReturnType<typeof hostTensor>> = {
      [ENCODER_NAMES.queryIds]: hostTensor('int64', [q.batchSize, q.seqLen], toInt64(q.inputIds)),
      [ENCODER_NAMES.queryMask]: hostTensor('int64', [q.batchSize, q.seqLen], toInt64(q.attentionMask)),
      [ENCODER_NAMES.docIds]: hostTensor('int64', [d.batchSize, d.seqLen], toInt64(d.inputIds)),
      [ENCODER_NAMES.docMask]: hostTensor('int64', [d.batchSize, d.seqLen], toInt64(d.attentionMask)),
    };
    this.weightNames.forEach((n, i) => {
      feeds[n] = hostTensor('float32', this.shapes.get(n)!, weights[i]!);
    });
    const out = await this.session.run(feeds);
    return {
      loss: (out[ENCODER_NAMES.loss]!.data as Float32Array)[0]!,
      // Outputs are fresh arrays owned by the caller: no copy (an element-wise copy of 22M values stalls the loop).
      gradients: this.weightNames.map((n) => out[ENCODER_NAMES.grad(n)]!.data as Float32Array),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
