// Straightforward float64 re-implementations of the three architectures for one unpadded sequence, written from
// the architecture descriptions with plain loops: an independent check on the ONNX graphs.
import type { BertConfig, Gpt2Config, LlamaConfig, WeightMap } from '../../../lib/models/model-config.ts';

type Mat = number[][];

function w(weights: WeightMap, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference: missing ${name}`);
  return t.data;
}

function rows(data: Float32Array, r: number, c: number): Mat {
  return Array.from({ length: r }, (_, i) => Array.from(data.subarray(i * c, (i + 1) * c)));
}

/** x [s, in] times an nn.Linear weight [out, in] (+ bias). */
function linear(x: Mat, weight: Float32Array, out: number, bias?: Float32Array): Mat {
  const inp = x[0]?.length ?? 0;
  return x.map((row) =>
    Array.from({ length: out }, (_, o) => {
      let acc = bias ? (bias[o] as number) : 0;
      for (let k = 0; k < inp; k++) acc += (row[k] as number) * (weight[o * inp + k] as number);
      return acc;
    }),
  );
}

/** x [s, in] times a Conv1D weight [in, out] (+ bias). */
function conv1d(x: Mat, weight: Float32Array, out: number, bias: Float32Array): Mat {
  const inp = x[0]?.length ?? 0;
  return x.map((row) =>
    Array.from({ length: out }, (_, o) => {
      let acc = bias[o] as number;
      for (let k = 0; k < inp; k++) acc += (row[k] as number) * (weight[k * out + o] as number);
      return acc;
    }),
  );
}

const addM = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + (b[i]?.[j] as number)));

function layerNorm(x: Mat, g: Float32Array, bta: Float32Array, eps: number): Mat {
  return x.map((r) => {
    const mean = r.reduce((a, v) => a + v, 0) / r.length;
    const variance = r.reduce((a, v) => a + (v - mean) ** 2, 0) / r.length;
    return r.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * (g[j] as number) + (bta[j] as number));
  });
}

function rmsNorm(x: Mat, g: Float32Array, eps: number): Mat {
  return x.map((r) => {
    const ms = r.reduce((a, v) => a + v * v, 0) / r.length;
    return r.map((v, j) => (v / Math.sqrt(ms + eps)) * (g[j] as number));
  });
}

function softmaxRow(r: number[]): number[] {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
}

/** Attention of one sequence; q rows per head h use kv head floor(h / groups). Returns [s, H*D]. */
function attend(q: Mat, k: Mat, v: Mat, nh: number, nkv: number, d: number, causal: boolean): Mat {
  const s = q.length;
  const groups = nh / nkv;
  return Array.from({ length: s }, (_, i) => {
    const out: number[] = [];
    for (let h = 0; h < nh; h++) {
      const kvh = Math.floor(h / groups);
      const scores: number[] = [];
      for (let j = 0; j < s; j++) {
        if (causal && j > i) continue;
        let dot = 0;
        for (let t = 0; t < d; t++) dot += (q[i]?.[h * d + t] as number) * (k[j]?.[kvh * d + t] as number);
        scores.push(dot / Math.sqrt(d));
      }
      const p = softmaxRow(scores);
      for (let t = 0; t < d; t++) out.push(p.reduce((a, pj, j) => a + pj * (v[j]?.[kvh * d + t] as number), 0));
    }
    return out;
  });
}

/** Rotate-half rotary embedding on every head of x [s, heads*d] at positions 0..s-1. */
function rotary(x: Mat, heads: number, d: number, theta: number): Mat {
  const half = d / 2;
  return x.map((r, pos) => {
    const out = r.slice();
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < half; j++) {
        const angle = pos * theta ** (-(2 * j) / d);
        const a = r[h * d + j] as number;
        const bb = r[h * d + j + half] as number;
        out[h * d + j] = a * Math.cos(angle) - bb * Math.sin(angle);
        out[h * d + j + half] = bb * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return out;
  });
}

function embed(weights: WeightMap, name: string, ids: readonly number[], h: number): Mat {
  const table = w(weights, name);
  return ids.map((id) => Array.from(table.subarray(id * h, (id + 1) * h)));
}

export function referenceLlamaLogits(cfg: LlamaConfig, weights: WeightMap, embeds: Mat): Mat {
  const { hiddenSize: h, numHeads: nh, numKvHeads: nkv, headDim: d, intermediateSize: ff, rmsNormEps: eps } = cfg;
  let x = embeds;
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const a = rmsNorm(x, w(weights, `${p}input_layernorm.weight`), eps);
    const q = rotary(linear(a, w(weights, `${p}self_attn.q_proj.weight`), nh * d), nh, d, cfg.ropeTheta);
    const k = rotary(linear(a, w(weights, `${p}self_attn.k_proj.weight`), nkv * d), nkv, d, cfg.ropeTheta);
    const v = linear(a, w(weights, `${p}self_attn.v_proj.weight`), nkv * d);
    x = addM(x, linear(attend(q, k, v, nh, nkv, d, true), w(weights, `${p}self_attn.o_proj.weight`), h));
    const m = rmsNorm(x, w(weights, `${p}post_attention_layernorm.weight`), eps);
    const gate = linear(m, w(weights, `${p}mlp.gate_proj.weight`), ff).map((r) => r.map((z) => z / (1 + Math.exp(-z))));
    const up = linear(m, w(weights, `${p}mlp.up_proj.weight`), ff);
    x = addM(x, linear(gate.map((r, s) => r.map((g, j) => g * (up[s]?.[j] as number))), w(weights, `${p}mlp.down_proj.weight`), h));
  }
  return linear(rmsNorm(x, w(weights, 'model.norm.weight'), eps), w(weights, 'model.embed_tokens.weight'), cfg.vocabSize);
}

export function referenceLlamaEmbeds(cfg: LlamaConfig, weights: WeightMap, ids: readonly number[]): Mat {
  return embed(weights, 'model.embed_tokens.weight', ids, cfg.hiddenSize);
}

export function referenceGpt2Logits(cfg: Gpt2Config, weights: WeightMap, embeds: Mat): Mat {
  const { hiddenSize: h, numHeads: nh, intermediateSize: ff, layerNormEps: eps } = cfg;
  const d = h / nh;
  const pos = rows(w(weights, 'wpe.weight'), cfg.maxPositions, h);
  let x = embeds.map((r, s) => r.map((v, j) => v + (pos[s]?.[j] as number)));
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `h.${i}.`;
    const a = layerNorm(x, w(weights, `${p}ln_1.weight`), w(weights, `${p}ln_1.bias`), eps);
    const qkv = conv1d(a, w(weights, `${p}attn.c_attn.weight`), 3 * h, w(weights, `${p}attn.c_attn.bias`));
    const q = qkv.map((r) => r.slice(0, h));
    const k = qkv.map((r) => r.slice(h, 2 * h));
    const v = qkv.map((r) => r.slice(2 * h));
    x = addM(x, conv1d(attend(q, k, v, nh, nh, d, true), w(weights, `${p}attn.c_proj.weight`), h, w(weights, `${p}attn.c_proj.bias`)));
    const m = layerNorm(x, w(weights, `${p}ln_2.weight`), w(weights, `${p}ln_2.bias`), eps);
    const gelu = (z: number) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
    const inner = conv1d(m, w(weights, `${p}mlp.c_fc.weight`), ff, w(weights, `${p}mlp.c_fc.bias`)).map((r) => r.map(gelu));
    x = addM(x, conv1d(inner, w(weights, `${p}mlp.c_proj.weight`), h, w(weights, `${p}mlp.c_proj.bias`)));
  }
  return linear(layerNorm(x, w(weights, 'ln_f.weight'), w(weights, 'ln_f.bias'), eps), w(weights, 'wte.weight'), cfg.vocabSize);
}

export function referenceGpt2Embeds(cfg: Gpt2Config, weights: WeightMap, ids: readonly number[]): Mat {
  return embed(weights, 'wte.weight', ids, cfg.hiddenSize);
}

/** erf by its Maclaurin series (|x| < 6 here; double precision to ~1e-13 in that range). */
export function erfSeries(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Mean-pooled embedding of one unpadded sequence (token type 0). */
export function referenceBertPooled(cfg: BertConfig, weights: WeightMap, ids: readonly number[]): number[] {
  const { hiddenSize: h, numHeads: nh, intermediateSize: ff, layerNormEps: eps } = cfg;
  const d = h / nh;
  const words = embed(weights, 'embeddings.word_embeddings.weight', ids, h);
  const pos = rows(w(weights, 'embeddings.position_embeddings.weight'), cfg.maxPositions, h);
  const type0 = w(weights, 'embeddings.token_type_embeddings.weight');
  let x = words.map((r, s) => r.map((v, j) => v + (pos[s]?.[j] as number) + (type0[j] as number)));
  x = layerNorm(x, w(weights, 'embeddings.LayerNorm.weight'), w(weights, 'embeddings.LayerNorm.bias'), eps);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `encoder.layer.${i}.`;
    const lin = (name: string, out: number, v: Mat) => linear(v, w(weights, `${p}${name}.weight`), out, w(weights, `${p}${name}.bias`));
    const ctx = attend(lin('attention.self.query', h, x), lin('attention.self.key', h, x), lin('attention.self.value', h, x), nh, nh, d, false);
    x = layerNorm(addM(x, lin('attention.output.dense', h, ctx)), w(weights, `${p}attention.output.LayerNorm.weight`), w(weights, `${p}attention.output.LayerNorm.bias`), eps);
    const inner = lin('intermediate.dense', ff, x).map((r) => r.map((z) => 0.5 * z * (1 + erfSeries(z / Math.SQRT2))));
    x = layerNorm(addM(x, lin('output.dense', h, inner)), w(weights, `${p}output.LayerNorm.weight`), w(weights, `${p}output.LayerNorm.bias`), eps);
  }
  return Array.from({ length: h }, (_, j) => x.reduce((a, r) => a + (r[j] as number), 0) / x.length);
}
