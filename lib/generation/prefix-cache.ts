// The part of the prompt shared by every document (soft prompt + few-shot examples) as embeddings, and its
// keys/values computed once per run so each document batch starts decoding after it.
import type { CausalDecoder, KvCache } from './decoder-step.ts';

/** Shared prompt prefix as input embeddings [length, hidden]. */
export interface PrefixEmbeds {
  readonly kind: 'embeds';
  readonly length: number;
  readonly embeds: Float32Array;
}

/** Shared prompt prefix as a batch-1 key/value cache over positions 0..length-1. */
export interface PrefixCache {
  readonly kind: 'cache';
  readonly length: number;
  readonly cache: KvCache;
}

/** Soft-prompt vectors (rows of `hidden`) followed by the embeddings of `tokenIds`. */
export function buildPrefixEmbeds(model: CausalDecoder, softPrompt: Float32Array | undefined, tokenIds: readonly number[]): PrefixEmbeds {
  const h = model.hiddenSize;
  const soft = softPrompt ?? new Float32Array(0);
  if (soft.length % h !== 0) throw new Error(`soft prompt has ${soft.length} values, not a whole number of ${h}-wide vectors`);
  const embeds = new Float32Array(soft.length + tokenIds.length * h);
  embeds.set(soft, 0);
  embeds.set(model.embed(tokenIds), soft.length);
  return { kind: 'embeds', length: embeds.length / h, embeds };
}

/** Runs the prefix through the decoder once, in chunks of at most `chunkSize` positions per call. */
export async function computePrefixCache(model: CausalDecoder, prefix: PrefixEmbeds, chunkSize = 128): Promise<PrefixCache> {
  const h = model.hiddenSize;
  let past: KvCache | undefined;
  for (let start = 0; start < prefix.length; start += chunkSize) {
    const len = Math.min(chunkSize, prefix.length - start);
    const { present } = await model.step({
      batchSize: 1,
      seqLen: len,
      inputsEmbeds: prefix.embeds.subarray(start * h, (start + len) * h),
      attentionMask: new Int32Array(start + len).fill(1),
      positionIds: Int32Array.from({ length: len }, (_, i) => start + i),
      past,
      consumePast: true,
      logitsFor: 'last',
    });
    past = present;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { kind: 'cache', length: prefix.length, cache: past ?? [] };
}
