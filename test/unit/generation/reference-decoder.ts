// A tiny deterministic causal decoder in plain TypeScript implementing the decoder-step contract, so the
// generation loop can be tested exactly. One attention head over the whole hidden vector:
//   key_j = [position_j, x_j], query_i = [alpha, gamma * x_i], value_j = x_j,
//   logits_i = W out_i, W = shift + mixing * noise   (out_i = attention-weighted mean of visible inputs,
//   shift[v][(v - 1) mod V] = 1), plus rho * sin(0.7 * position_i * (v + 1)) so absolute positions matter.
// With gamma = 0 and a large alpha the model predicts "previous token + 1"; with alpha = 0 it predicts
// "1 + the most frequent visible token". Embeddings are one-hot, optionally plus seeded noise.
import type { CausalDecoder, DecoderStepInput, DecoderStepOutput, KvTensor } from '../../../lib/generation/decoder-step.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';

export interface ReferenceDecoderOptions {
  readonly vocabSize: number;
  readonly alpha: number;
  readonly gamma?: number;
  readonly rho?: number;
  readonly embedNoise?: number;
  /** Seeded noise added to the output matrix, so continuations depend on the whole context. */
  readonly mixing?: number;
  readonly seed?: number;
}

export interface RecordedCall {
  readonly batchSize: number;
  readonly seqLen: number;
  readonly pastLen: number;
  readonly prefixLen: number;
}

export class ReferenceDecoder implements CausalDecoder {
  readonly hiddenSize: number;
  readonly vocabSize: number;
  readonly calls: RecordedCall[] = [];
  private readonly table: Float32Array;
  private readonly output: Float32Array;

  constructor(private readonly options: ReferenceDecoderOptions) {
    this.vocabSize = options.vocabSize;
    this.hiddenSize = options.vocabSize;
    const rand = new Mulberry32(options.seed ?? 1).next;
    const v = options.vocabSize;
    this.table = new Float32Array(v * v);
    for (let i = 0; i < v; i++) {
      for (let j = 0; j < v; j++) this.table[i * v + j] = (i === j ? 1 : 0) + (options.embedNoise ?? 0) * (rand() - 0.5);
    }
    this.output = new Float32Array(v * v);
    for (let i = 0; i < v; i++) {
      for (let j = 0; j < v; j++) this.output[i * v + j] = (j === (i - 1 + v) % v ? 1 : 0) + (options.mixing ?? 0) * (rand() - 0.5);
    }
  }

  embed(ids: readonly number[]): Float32Array {
    const h = this.hiddenSize;
    const out = new Float32Array(ids.length * h);
    ids.forEach((id, i) => out.set(this.table.subarray(id * h, (id + 1) * h), i * h));
    return out;
  }

  step(input: DecoderStepInput): Promise<DecoderStepOutput> {
    const { batchSize: b, seqLen: s, inputsEmbeds, attentionMask, positionIds, past, prefix } = input;
    const h = this.hiddenSize;
    const kd = h + 1;
    const pastLen = past?.[0]?.key.dims[2] ?? 0;
    const prefixLen = prefix?.[0]?.key.dims[2] ?? 0;
    if (prefix?.[0] && prefix[0].key.dims[0] !== 1) throw new Error(`shared prefix must have batch 1, got ${prefix[0].key.dims[0]}`);
    // Attention runs over [shared prefix][past][new] per row; present holds [past][new] only.
    const own = pastLen + s;
    const total = prefixLen + own;
    if (attentionMask.length !== b * total) throw new Error(`mask has ${attentionMask.length} entries, expected ${b}x${total}`);
    this.calls.push({ batchSize: b, seqLen: s, pastLen, prefixLen });
    const keys = new Float32Array(b * total * kd);
    const values = new Float32Array(b * total * h);
    for (let r = 0; r < b; r++) {
      if (prefix?.[0]) {
        keys.set(prefix[0].key.data, r * total * kd);
        values.set(prefix[0].value.data, r * total * h);
      }
      if (past?.[0]) {
        keys.set(past[0].key.data.subarray(r * pastLen * kd, (r + 1) * pastLen * kd), (r * total + prefixLen) * kd);
        values.set(past[0].value.data.subarray(r * pastLen * h, (r + 1) * pastLen * h), (r * total + prefixLen) * h);
      }
      for (let i = 0; i < s; i++) {
        const at = r * total + prefixLen + pastLen + i;
        keys[at * kd] = positionIds[r * s + i] ?? 0;
        const x = inputsEmbeds.subarray((r * s + i) * h, (r * s + i + 1) * h);
        keys.set(x, at * kd + 1);
        values.set(x, at * h);
      }
    }
    const rowsOut = input.logitsFor === 'last' ? 1 : s;
    const logits = new Float32Array(b * rowsOut * h);
    const { alpha, gamma = 0, rho = 0 } = this.options;
    for (let r = 0; r < b; r++) {
      for (let o = 0; o < rowsOut; o++) {
        const i = input.logitsFor === 'last' ? s - 1 : o;
        const col = prefixLen + pastLen + i;
        const x = inputsEmbeds.subarray((r * s + i) * h, (r * s + i + 1) * h);
        const queryPosition = positionIds[r * s + i] ?? 0;
        const scores: number[] = [];
        let max = -Infinity;
        for (let j = 0; j <= col; j++) {
          if (attentionMask[r * total + j] !== 1) {
            scores.push(-Infinity);
            continue;
          }
          const k = keys.subarray((r * total + j) * kd, (r * total + j + 1) * kd);
          let dot = alpha * (k[0] ?? 0);
          for (let d = 0; d < h; d++) dot += gamma * (x[d] ?? 0) * (k[d + 1] ?? 0);
          scores.push(dot);
          max = Math.max(max, dot);
        }
        const weights = scores.map((sc) => (sc === -Infinity ? 0 : Math.exp(sc - max)));
        const sum = weights.reduce((a, w) => a + w, 0);
        const out = new Float64Array(h);
        weights.forEach((w, j) => {
          if (w === 0) return;
          for (let d = 0; d < h; d++) out[d] = (out[d] ?? 0) + (w / sum) * (values[(r * total + j) * h + d] ?? 0);
        });
        for (let v = 0; v < h; v++) {
          let sum = rho * Math.sin(0.7 * queryPosition * (v + 1));
          for (let d = 0; d < h; d++) sum += (this.output[v * h + d] ?? 0) * (out[d] ?? 0);
          logits[(r * rowsOut + o) * h + v] = sum;
        }
      }
    }
    const ownKeys = new Float32Array(b * own * kd);
    const ownValues = new Float32Array(b * own * h);
    for (let r = 0; r < b; r++) {
      ownKeys.set(keys.subarray((r * total + prefixLen) * kd, (r + 1) * total * kd), r * own * kd);
      ownValues.set(values.subarray((r * total + prefixLen) * h, (r + 1) * total * h), r * own * h);
    }
    const key: KvTensor = { dims: [b, 1, own, kd], data: ownKeys };
    const value: KvTensor = { dims: [b, 1, own, h], data: ownValues };
    return Promise.resolve({ logits, present: [{ key, value }] });
  }
}
