// The soft prompt filter: sample G candidate groups of M labeled example pairs, score each group by its mean loss
// on S_eval with the tuned prompt fixed, keep the lowest. Groups are independent, so they are scored in parallel.

/**
 * G distinct groups of M distinct indices into `poolSize` pairs, drawn with `random` (uniform in [0, 1)).
 * Fewer groups are returned only when fewer distinct ones exist.
 */
export function sampleExampleGroups(poolSize: number, groups: number, perGroup: number, random: () => number): number[][] {
  if (perGroup > poolSize) throw new Error(`cannot draw groups of ${perGroup} examples from ${poolSize} labeled pairs; lower promptTuning.examplesPerPrompt`);
  const seen = new Set<string>();
  const out: number[][] = [];
  // Bounded attempts: with tiny pools there may be fewer than G distinct groups.
  for (let attempt = 0; out.length < groups && attempt < groups * 50; attempt++) {
    const pool = Array.from({ length: poolSize }, (_, i) => i);
    // Partial Fisher-Yates: the first perGroup entries are a uniform sample without replacement.
    for (let i = 0; i < perGroup; i++) {
      const j = i + Math.floor(random() * (poolSize - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const group = pool.slice(0, perGroup);
    const key = [...group].sort((a, b) => a - b).join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(group);
  }
  return out;
}

/** Index of the group with the lowest mean loss; the earliest wins a tie. Non-finite losses never win. */
export function bestGroup(losses: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < losses.length; i++) {
    const l = losses[i]!;
    if (Number.isFinite(l) && (best < 0 || l < losses[best]!)) best = i;
  }
  if (best < 0) throw new Error('no example group has a finite loss');
  return best;
}
