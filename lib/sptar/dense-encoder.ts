// The dense retriever's encoder: mean-pooled, L2-normalised sentence embeddings (cosine = dot product), and the
// in-batch-negatives training step with gradients for every encoder weight, both on the ONNX engine.
import { ENCODER_NAMES } from '../models/encoder-graphs.ts';
import type { BertConfig, WeightMap, WeightTensor } from '../models/model-config.ts';
import { openEncoderSession, openEncoderTrainingSession, type SessionPlace } from '../models/model-sessions.ts';
import { hostTensor, type ModelSession } from '../onnx/session.ts';
import { encodeBertBatch } from '../tokenizers/bert-batch-encoding.ts';
import type { TextTokenizer } from '../tokenizers/text-tokenizer.ts';

const toInt64 = (a: Int32Array) => BigInt64Array.from(a, (v) => BigInt(v));

export class DenseEncoder {
  private constructor(
    private readonly session: ModelSession,
    private readonly tokenizer: TextTokenizer,
    readonly dim: number,
    private readonly maxLength: number,
  ) {}

  /** The session runs in a worker thread unless `place.worker` is false, so encoding never stalls heartbeats. */
  static async open(weights: WeightMap, cfg: BertConfig, tokenizer: TextTokenizer, maxLength: number, place: SessionPlace = {}): Promise<DenseEncoder> {
    const session = await openEncoderSession(weights, cfg, { normalize: true }, { worker: true, ...place });
    return new DenseEncoder(session, tokenizer, cfg.hiddenSize, maxLength);
  }

  /** Row-major [texts.length, dim] unit vectors. Batches are small so no single run blocks for long. */
  async encode(texts: readonly string[], batchSize = 32, onBatch?: (done: number) => void): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    for (let i = 0; i < texts.length; i += batchSize) {
      const batch = encodeBertBatch(this.tokenizer, texts.slice(i, i + batchSize), { maxLength: this.maxLength });
      const dims = [batch.batchSize, batch.seqLen];
      const res = await this.session.run({
        [ENCODER_NAMES.inputIds]: hostTensor('int64', dims, toInt64(batch.inputIds)),
        [ENCODER_NAMES.attentionMask]: hostTensor('int64', dims, toInt64(batch.attentionMask)),
        [ENCODER_NAMES.tokenTypeIds]: hostTensor('int64', dims, toInt64(batch.tokenTypeIds)),
      });
      out.set(res[ENCODER_NAMES.embedding]!.data as Float32Array, i * this.dim);
      onBatch?.(Math.min(texts.length, i + batchSize));
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
