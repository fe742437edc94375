// The contract between the generation loop and a causal decoder (the ONNX LLaMA/GPT-2 graphs implement it).
// One call runs the decoder over `seqLen` new positions of every row, given the cached keys/values of the
// positions before them.

/** Keys or values of one layer: row-major [batch, kvHeads, seq, headDim]. */
export interface KvTensor {
  readonly dims: readonly [number, number, number, number];
  readonly data: Float32Array;
}

export interface LayerKv {
  readonly key: KvTensor;
  readonly value: KvTensor;
}

/** Per-layer keys/values for every position processed so far. */
export type KvCache = readonly LayerKv[];

export interface DecoderStepInput {
  readonly batchSize: number;
  readonly seqLen: number;
  /** [batch, seqLen, hidden]: token embeddings, or soft-prompt vectors, for the new positions. */
  readonly inputsEmbeds: Float32Array;
  /** [batch, prefixLen + pastLen + seqLen], 1 = attend, 0 = padding. Causality is the decoder's job. */
  readonly attentionMask: Int32Array;
  /** [batch, seqLen]: position index of each new token (padding does not advance positions). */
  readonly positionIds: Int32Array;
  /** Cache covering the pastLen columns after the prefix, or undefined when pastLen = 0. */
  readonly past: KvCache | undefined;
  /**
   * The caller drops `past` after this call (it continues from `present`): a decoder in another thread may take
   * its buffers instead of copying them, leaving the caller's arrays empty.
   */
  readonly consumePast?: boolean;
  /**
   * Batch-1 cache of a prefix shared by every row (its prefixLen columns come first). The decoder attends to it
   * without copying it per row; it is not part of `present`.
   */
  readonly prefix?: KvCache;
  /** 'last' lets the decoder compute logits for the final column only (all that decoding needs). */
  readonly logitsFor: 'all' | 'last';
}

export interface DecoderStepOutput {
  /** [batch, seqLen, vocab] for 'all', [batch, 1, vocab] for 'last'. */
  readonly logits: Float32Array;
  /** Cache covering pastLen + seqLen columns (the shared prefix excluded). */
  readonly present: KvCache;
}

export interface CausalDecoder {
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** Token embeddings [ids.length, hidden] (the input-embedding table lookup). */
  embed(ids: readonly number[]): Float32Array;
  step(input: DecoderStepInput): Promise<DecoderStepOutput>;
}
