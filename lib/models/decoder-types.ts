// Shapes shared by the decoder definitions.
import type { Value } from '../onnx/graph-builder.ts';

/** One layer's cache: [batch, kvHeads, positions, headDim] each. */
export interface KeyValue {
  readonly key: Value;
  readonly value: Value;
}

export interface DecoderInputs {
  /** [batch, seq, hidden] */
  readonly embeds: Value;
  /** int64 0/1 [batch, past + seq] */
  readonly attentionMask: Value;
  /** int64 [batch, seq] */
  readonly positions: Value;
  readonly past?: readonly KeyValue[];
  /** Batch-1 keys/values of a prefix every row attends to before `past` (the mask covers it first). */
  readonly shared?: readonly KeyValue[];
}
