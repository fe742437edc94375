// Encoder inputs for BERT-style models: [CLS] text [SEP], truncated to a maximum length, padded to a common
// length, with attention mask and token type ids, for a batch of texts.
import type { TextTokenizer } from './text-tokenizer.ts';

interface BertBatch {
  readonly batchSize: number;
  readonly seqLen: number;
  /** Row-major [batchSize, seqLen]. */
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
  /** Real (unpadded) length of each row, special tokens included. */
  readonly lengths: readonly number[];
}

interface BertBatchOptions {
  /** Longest row, special tokens included (all-MiniLM-L6-v2 was trained with 128 or 256; model limit 512). */
  readonly maxLength: number;
  /** 'longest': pad to the longest row of this batch; 'max_length': always pad to maxLength. */
  readonly padding?: 'longest' | 'max_length';
}

/** Token ids of each text as the encoder reads it: [CLS] text [SEP], cut to `maxLength` tokens in all. */
export function bertRows(tokenizer: TextTokenizer, texts: readonly string[], maxLength: number): number[][] {
  const { cls, sep, pad } = tokenizer.special;
  if (cls === undefined || sep === undefined || pad === undefined) {
    throw new Error('encodeBertBatch needs a tokenizer with [CLS], [SEP] and [PAD] tokens (a BERT WordPiece tokenizer.json)');
  }
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`maxLength must be an integer >= 2, got ${maxLength}`);
  return texts.map((text) => [cls, ...tokenizer.encode(text).slice(0, maxLength - 2), sep]);
}

/** Rows from `bertRows` padded with `pad` into one batch. */
export function packBertRows(rows: readonly (readonly number[])[], pad: number, options: BertBatchOptions): BertBatch {
  const seqLen = options.padding === 'max_length' ? options.maxLength : Math.max(2, ...rows.map((r) => r.length));
  const inputIds = new Int32Array(rows.length * seqLen).fill(pad);
  const attentionMask = new Int32Array(rows.length * seqLen);
  rows.forEach((row, b) => {
    inputIds.set(row, b * seqLen);
    attentionMask.fill(1, b * seqLen, b * seqLen + row.length);
  });
  return {
    batchSize: rows.length,
    seqLen,
    inputIds,
    attentionMask,
    tokenTypeIds: new Int32Array(rows.length * seqLen),
    lengths: rows.map((r) => r.length),
  };
}

export function encodeBertBatch(tokenizer: TextTokenizer, texts: readonly string[], options: BertBatchOptions): BertBatch {
  return packBertRows(bertRows(tokenizer, texts, options.maxLength), tokenizer.special.pad!, options);
}
