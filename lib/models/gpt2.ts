// GPT-2-family decoder: learned positions, pre-LayerNorm blocks, fused QKV Conv1D ([in, out] weights), tanh GELU
// MLP, LM head tied to the token embeddings. Weight names as in HF `GPT2Model` (an optional `transformer.` prefix
// is detected).
import type { GraphBuilder, Value } from '../onnx/graph-builder.ts';
import * as layers from '../onnx/layers.ts';
import * as op from '../onnx/ops.ts';
import type { Gpt2Config, WeightMap } from './model-config.ts';
import type { DecoderInputs, KeyValue } from './decoder-types.ts';
import type { WeightSource } from './weight-source.ts';

export function gpt2Prefix(weights: WeightMap): string {
  return weights.has('transformer.wte.weight') ? 'transformer.' : '';
}

export function gpt2Hidden(b: GraphBuilder, w: WeightSource, cfg: Gpt2Config, prefix: string, x0: DecoderInputs): { hidden: Value; present: KeyValue[] } {
  const { hiddenSize: h, numHeads: nh, intermediateSize: ff, layerNormEps: eps } = cfg;
  const d = h / nh;
  const bias = layers.attentionBias(b, x0.attentionMask, x0.embeds, true, w.dtype);
  let x = op.add(b, x0.embeds, op.gather(b, w.get(`${prefix}wpe.weight`, [cfg.maxPositions, h]), x0.positions, 0));
  const present: KeyValue[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `${prefix}h.${i}.`;
    const hIn = layers.layerNorm(b, x, w.get(`${p}ln_1.weight`, [h]), w.get(`${p}ln_1.bias`, [h]), eps);
    const qkv = layers.conv1d(b, hIn, w.get(`${p}attn.c_attn.weight`, [h, 3 * h]), w.get(`${p}attn.c_attn.bias`, [3 * h]));
    const q = layers.splitHeads(b, op.slice(b, qkv, [0], [h], [-1]), nh, d);
    let k = layers.splitHeads(b, op.slice(b, qkv, [h], [2 * h], [-1]), nh, d);
    let v = layers.splitHeads(b, op.slice(b, qkv, [2 * h], [3 * h], [-1]), nh, d);
    const past = x0.past?.[i];
    if (past) {
      k = op.concat(b, [past.key, k], 2);
      v = op.concat(b, [past.value, v], 2);
    }
    present.push({ key: k, value: v });
    const attn = layers.attention(b, q, k, v, bias, nh, nh, d, x0.shared?.[i]);
    x = op.add(b, x, layers.conv1d(b, attn, w.get(`${p}attn.c_proj.weight`, [h, h]), w.get(`${p}attn.c_proj.bias`, [h])));
    const hMid = layers.layerNorm(b, x, w.get(`${p}ln_2.weight`, [h]), w.get(`${p}ln_2.bias`, [h]), eps);
    const inner = layers.geluTanh(b, layers.conv1d(b, hMid, w.get(`${p}mlp.c_fc.weight`, [h, ff]), w.get(`${p}mlp.c_fc.bias`, [ff])));
    x = op.add(b, x, layers.conv1d(b, inner, w.get(`${p}mlp.c_proj.weight`, [ff, h]), w.get(`${p}mlp.c_proj.bias`, [h])));
  }
  return { hidden: layers.layerNorm(b, x, w.get(`${prefix}ln_f.weight`, [h]), w.get(`${prefix}ln_f.bias`, [h]), eps), present };
}

export function gpt2Logits(b: GraphBuilder, w: WeightSource, cfg: Gpt2Config, prefix: string, hidden: Value): Value {
  return layers.linear(b, hidden, w.get(`${prefix}wte.weight`, [cfg.vocabSize, cfg.hiddenSize]));
}
