// Token-level perplexity of a decoder on texts: exp(mean negative log-likelihood of each token given the ones
// before it), each text scored independently from its first token.
import type { CausalDecoder } from './decoder-step.ts';

interface PerplexityResult {
  readonly perplexity: number;
  readonly meanNll: number;
  readonly tokens: number;
}

export async function perplexity(model: CausalDecoder, sequences: readonly (readonly number[])[]): Promise<PerplexityResult> {
  let nll = 0;
  let count = 0;
  const v = model.vocabSize;
  for (const ids of sequences) {
    if (ids.length < 2) continue;
    const n = ids.length;
    const { logits } = await model.step({
      batchSize: 1,
      seqLen: n,
      inputsEmbeds: model.embed(ids),
      attentionMask: new Int32Array(n).fill(1),
      positionIds: Int32Array.from({ length: n }, (_, i) => i),
      past: undefined,
      logitsFor: 'all',
    });
    for (let t = 0; t < n - 1; t++) {
      const row = logits.subarray(t * v, (t + 1) * v);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let sum = 0;
      for (const x of row) sum += Math.exp(x - max);
      const target = ids[t + 1] ?? 0;
      nll += Math.log(sum) + max - (row[target] ?? 0);
      count++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (count === 0) throw new Error('perplexity needs at least one sequence of two or more tokens');
  return { perplexity: Math.exp(nll / count), meanNll: nll / count, tokens: count };
}
