// LLaMA-family decoder (SmolLM2): pre-RMSNorm blocks, rotary positions (HF rotate-half), grouped-query
// attention and a SwiGLU MLP; weights by HuggingFace names.
import type { GraphBuilder, Value } from '../onnx/graph-builder.ts';
import * as layers from '../onnx/layers.ts';
import * as op from '../onnx/ops.ts';
import type { LlamaConfig } from './model-config.ts';
import type { KeyValue, DecoderInputs } from './decoder-types.ts';
import type { WeightSource } from './weight-source.ts';

export function llamaHidden(b: GraphBuilder, w: WeightSource, cfg: LlamaConfig, x0: DecoderInputs): { hidden: Value; present: KeyValue[] } {
  const { hiddenSize: h, numHeads: nh, numKvHeads: nkv, headDim: d, intermediateSize: ff } = cfg;
  const bias = layers.attentionBias(b, x0.attentionMask, x0.embeds, true, w.dtype);
  const rotary = layers.rotaryTables(b, x0.positions, d, cfg.ropeTheta, w.dtype);
  let x = x0.embeds;
  const present: KeyValue[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const hIn = layers.rmsNorm(b, x, w.get(`${p}input_layernorm.weight`, [h]), cfg.rmsNormEps);
    const q = layers.applyRotary(b, layers.splitHeads(b, layers.linear(b, hIn, w.get(`${p}self_attn.q_proj.weight`, [nh * d, h])), nh, d), rotary, d);
    let k = layers.applyRotary(b, layers.splitHeads(b, layers.linear(b, hIn, w.get(`${p}self_attn.k_proj.weight`, [nkv * d, h])), nkv, d), rotary, d);
    let v = layers.splitHeads(b, layers.linear(b, hIn, w.get(`${p}self_attn.v_proj.weight`, [nkv * d, h])), nkv, d);
    const past = x0.past?.[i];
    if (past) {
      k = op.concat(b, [past.key, k], 2);
      v = op.concat(b, [past.value, v], 2);
    }
    present.push({ key: k, value: v });
    const attn = layers.attention(b, q, k, v, bias, nh, nkv, d, x0.shared?.[i]);
    x = op.add(b, x, layers.linear(b, attn, w.get(`${p}self_attn.o_proj.weight`, [h, nh * d])));
    const hMid = layers.rmsNorm(b, x, w.get(`${p}post_attention_layernorm.weight`, [h]), cfg.rmsNormEps);
    const gate = layers.silu(b, layers.linear(b, hMid, w.get(`${p}mlp.gate_proj.weight`, [ff, h])));
    const up = layers.linear(b, hMid, w.get(`${p}mlp.up_proj.weight`, [ff, h]));
    x = op.add(b, x, layers.linear(b, op.mul(b, gate, up), w.get(`${p}mlp.down_proj.weight`, [h, ff])));
  }
  return { hidden: layers.rmsNorm(b, x, w.get('model.norm.weight', [h]), cfg.rmsNormEps), present };
}

export function llamaEmbeddingName(): string {
  return 'model.embed_tokens.weight';
}

export function llamaLogits(b: GraphBuilder, w: WeightSource, cfg: LlamaConfig, hidden: Value): Value {
  const name = cfg.tieWordEmbeddings ? llamaEmbeddingName() : 'lm_head.weight';
  return layers.linear(b, hidden, w.get(name, [cfg.vocabSize, cfg.hiddenSize]));
}
