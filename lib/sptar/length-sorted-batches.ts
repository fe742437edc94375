// The order a generation shard decodes its documents in. A batch's prompts are left-padded to its longest one, so
// batches of consecutive shard documents pay prefill for that padding; sorted by prompt length, each batch holds
// documents of about the same length. The order is a pure function of the lengths (ties keep shard order), so every
// attempt at a shard forms the same batches and its checkpoint parts line up; outputs go back to shard order.

/**
 * Shard positions in processing order: ascending `lengths[i]`, ties by position. Lengths may be negative
 * (documents that are not decoded at all: they come first, in shard order).
 */
export function lengthSortedOrder(lengths: readonly number[]): number[] {
  return lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
}

/** `processed[k]` belongs to shard position `order[k]`: the same values in shard order. */
export function restoreShardOrder<T>(processed: readonly T[], order: readonly number[]): T[] {
  if (processed.length !== order.length) throw new Error(`internal: ${processed.length} outcomes for ${order.length} shard positions`);
  const out = new Array<T>(order.length);
  const seen = new Set<number>();
  order.forEach((position, k) => {
    if (seen.has(position) || position < 0 || position >= order.length) throw new Error(`internal: processing order repeats or leaves out shard position ${position}`);
    seen.add(position);
    out[position] = processed[k]!;
  });
  return out;
}

/**
 * Prompt positions the decoder runs for the documents' own prompts when `order` is cut into batches of
 * `batchSize`: each batch pays its longest prompt for every decoded row (the shared prefix and generated tokens
 * aside; negative lengths are documents that are not decoded).
 */
export function paddedPromptPositions(lengths: readonly number[], order: readonly number[], batchSize: number): number {
  let positions = 0;
  for (let i = 0; i < order.length; i += batchSize) {
    const batch = order.slice(i, i + batchSize).map((p) => lengths[p]!).filter((l) => l >= 0);
    positions += batch.length * Math.max(0, ...batch);
  }
  return positions;
}
