// Batched decoding. Rows are laid out as [shared prefix][left padding][prompt][generated], so every row's
// newest token sits in the last column; padding is masked out and does not advance positions. Finished rows
// are dropped from the batch (and from the cache) so the remaining rows run at full speed. A cached prefix is
// passed to every step as one batch-1 cache that all rows attend to: it is never copied per row, and the per-row
// cache (copied by onnxruntime at every step, and on the JS side when rows finish) holds only the row's own columns.
import type { CausalDecoder, KvCache } from './decoder-step.ts';
import { selectCacheRows } from './kv-cache.ts';
import type { PrefixCache, PrefixEmbeds } from './prefix-cache.ts';
import { StopChecker, type FinishReason, type StoppingCriteria } from './stopping-criteria.ts';
import type { TokenSampler } from './token-sampler.ts';

interface GenerateOptions {
  readonly model: CausalDecoder;
  /** Token ids of each row's own prompt (after the shared prefix); each non-empty. */
  readonly prompts: readonly (readonly number[])[];
  /** Shared prefix: raw embeddings (recomputed for this batch) or a cache computed once. */
  readonly prefix?: PrefixEmbeds | PrefixCache;
  readonly sampler: TokenSampler;
  readonly stopping: StoppingCriteria;
  /** Embedding used for padding columns; masked out, so any valid id works. */
  readonly padTokenId: number;
  /** Reuse keys/values between steps (default). false recomputes every position at every step. */
  readonly useKvCache?: boolean;
  /** Longest run of prompt positions per decoder call, so no single call blocks for long. */
  readonly prefillChunkSize?: number;
}

interface GeneratedRow {
  readonly tokens: number[];
  readonly finish: FinishReason;
}

interface GenerationStats {
  readonly decoderCalls: number;
  readonly positionsProcessed: number;
}

interface Row {
  readonly index: number;
  /** Token per column after the prefix (padding uses padTokenId). */
  readonly columns: number[];
  /** Attention mask over all columns including the prefix. */
  readonly mask: number[];
  readonly output: number[];
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function generate(options: GenerateOptions): Promise<{ rows: GeneratedRow[]; stats: GenerationStats }> {
  const { model, prompts, prefix, sampler, padTokenId } = options;
  const useKvCache = options.useKvCache ?? true;
  const chunkSize = options.prefillChunkSize ?? 128;
  const checker = new StopChecker(options.stopping);
  const h = model.hiddenSize;
  const vocab = model.vocabSize;
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty; every row needs at least one token after the prefix`);
  });
  const prefixLength = prefix?.length ?? 0;
  // Columns before `ownStart` come from the shared prefix cache; the row caches start after them.
  const shared = prefix?.kind === 'cache' ? prefix.cache : undefined;
  const ownStart = shared ? prefixLength : 0;
  const longest = Math.max(0, ...prompts.map((p) => p.length));
  const rows: Row[] = prompts.map((prompt, index) => {
    const pad = longest - prompt.length;
    return {
      index,
      columns: [...new Array<number>(pad).fill(padTokenId), ...prompt],
      mask: [...new Array<number>(prefixLength).fill(1), ...new Array<number>(pad).fill(0), ...new Array<number>(prompt.length).fill(1)],
      output: [],
    };
  });
  const results: (GeneratedRow | undefined)[] = new Array(prompts.length);
  let decoderCalls = 0;
  let positionsProcessed = 0;

  // Runs columns [from, to) (indices over all columns, prefix included) for the active rows.
  const run = async (active: Row[], from: number, to: number, past: KvCache | undefined) => {
    const b = active.length;
    const s = to - from;
    const inputsEmbeds = new Float32Array(b * s * h);
    const positionIds = new Int32Array(b * s);
    const attentionMask = new Int32Array(b * to);
    active.forEach((row, r) => {
      const ids: number[] = [];
      for (let c = from; c < to; c++) {
        if (c < prefixLength) {
          if (prefix?.kind !== 'embeds') throw new Error('internal: prefix columns requested without prefix embeddings');
          inputsEmbeds.set(prefix.embeds.subarray(c * h, (c + 1) * h), (r * s + c - from) * h);
        } else {
          ids.push(row.columns[c - prefixLength] ?? padTokenId);
        }
      }
      if (ids.length > 0) inputsEmbeds.set(model.embed(ids), (r * s + (s - ids.length)) * h);
      let position = 0;
      for (let c = 0; c < to; c++) {
        const m = row.mask[c] ?? 0;
        attentionMask[r * to + c] = m;
        if (c >= from) positionIds[r * s + c - from] = position; // masked padding may share its successor's position
        position += m;
      }
    });
    decoderCalls++;
    positionsProcessed += b * s;
    // Only `present` is kept after a step, so the decoder may take the past cache's buffers.
    const out = await model.step({ batchSize: b, seqLen: s, inputsEmbeds, attentionMask, positionIds, past, consumePast: true, logitsFor: 'last', ...(shared ? { prefix: shared } : {}) });
    await yieldToEventLoop();
    return out;
  };

  let active = rows;
  let cache: KvCache | undefined;
  let cachedColumns = ownStart;
  while (active.length > 0) {
    const total = prefixLength + (active[0]?.columns.length ?? 0);
    let logits: Float32Array | undefined;
    if (!useKvCache) {
      // Start over after the shared prefix (or from column 0 without one).
      cache = undefined;
      cachedColumns = ownStart;
    }
    while (cachedColumns < total) {
      const end = useKvCache ? Math.min(total, cachedColumns + chunkSize) : total;
      const out = await run(active, cachedColumns, end, cache);
      cache = out.present;
      cachedColumns = end;
      logits = out.logits;
    }
    if (!logits) throw new Error('internal: no logits produced');
    const stillActive: number[] = [];
    active.forEach((row, r) => {
      const token = sampler(logits.subarray(r * vocab, (r + 1) * vocab));
      const decision = checker.check(token, row.output.length + 1);
      if (decision.keepToken) row.output.push(token);
      if (decision.finish !== undefined) {
        results[row.index] = { tokens: row.output, finish: decision.finish };
        return;
      }
      row.columns.push(token);
      row.mask.push(1);
      stillActive.push(r);
    });
    if (stillActive.length < active.length) {
      if (cache !== undefined && useKvCache) cache = selectCacheRows(cache, stillActive);
      active = stillActive.map((r) => active[r] as Row);
    }
  }
  return {
    rows: results.map((r, i) => {
      if (!r) throw new Error(`internal: row ${i} never finished`);
      return r;
    }),
    stats: { decoderCalls, positionsProcessed },
  };
}
