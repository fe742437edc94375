// Seeded tiny random models of each architecture, for tests and for benchmarks at real shapes.
import type { BertConfig, Gpt2Config, LlamaConfig, WeightMap, WeightTensor } from './model-config.ts';
import { Mulberry32 } from '../random/prng.ts';

function tensor(rng: Mulberry32, dims: number[], scale: number): WeightTensor {
  return { dims, data: rng.floats(dims.reduce((a, c) => a * c, 1), scale) };
}

/** Norm gains near 1 so activations keep a useful scale. */
function gain(rng: Mulberry32, n: number): WeightTensor {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = 1 + rng.uniform(0.1);
  return { dims: [n], data };
}

export const TINY_LLAMA: LlamaConfig = {
  architecture: 'llama', vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numLayers: 2, numHeads: 4, numKvHeads: 2,
  headDim: 2, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositions: 64, tieWordEmbeddings: true,
};

export const TINY_GPT2: Gpt2Config = {
  architecture: 'gpt2', vocabSize: 13, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16, layerNormEps: 1e-5, maxPositions: 32,
};

export const TINY_BERT: BertConfig = {
  architecture: 'bert', vocabSize: 17, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12, layerNormEps: 1e-12, maxPositions: 16, typeVocabSize: 2,
};

/** Random LLaMA weights for any config (used with TINY_LLAMA in tests and with real shapes in the benchmark). */
export function randomLlamaWeights(cfg: LlamaConfig, seed: number, scale = 0.5): Map<string, WeightTensor> {
  const rng = new Mulberry32(seed);
  const { hiddenSize: h, numHeads: nh, numKvHeads: nkv, headDim: d, intermediateSize: ff } = cfg;
  const w = new Map<string, WeightTensor>();
  w.set('model.embed_tokens.weight', tensor(rng, [cfg.vocabSize, h], scale));
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}.`;
    w.set(`${p}input_layernorm.weight`, gain(rng, h));
    w.set(`${p}self_attn.q_proj.weight`, tensor(rng, [nh * d, h], scale));
    w.set(`${p}self_attn.k_proj.weight`, tensor(rng, [nkv * d, h], scale));
    w.set(`${p}self_attn.v_proj.weight`, tensor(rng, [nkv * d, h], scale));
    w.set(`${p}self_attn.o_proj.weight`, tensor(rng, [h, nh * d], scale));
    w.set(`${p}post_attention_layernorm.weight`, gain(rng, h));
    w.set(`${p}mlp.gate_proj.weight`, tensor(rng, [ff, h], scale));
    w.set(`${p}mlp.up_proj.weight`, tensor(rng, [ff, h], scale));
    w.set(`${p}mlp.down_proj.weight`, tensor(rng, [h, ff], scale));
  }
  w.set('model.norm.weight', gain(rng, h));
  if (!cfg.tieWordEmbeddings) w.set('lm_head.weight', tensor(rng, [cfg.vocabSize, h], scale));
  return w;
}

export function randomGpt2Weights(cfg: Gpt2Config, seed: number, scale = 0.5): Map<string, WeightTensor> {
  const rng = new Mulberry32(seed);
  const { hiddenSize: h, intermediateSize: ff } = cfg;
  const w = new Map<string, WeightTensor>();
  w.set('wte.weight', tensor(rng, [cfg.vocabSize, h], scale));
  w.set('wpe.weight', tensor(rng, [cfg.maxPositions, h], scale));
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `h.${i}.`;
    w.set(`${p}ln_1.weight`, gain(rng, h));
    w.set(`${p}ln_1.bias`, tensor(rng, [h], 0.1));
    w.set(`${p}attn.c_attn.weight`, tensor(rng, [h, 3 * h], scale));
    w.set(`${p}attn.c_attn.bias`, tensor(rng, [3 * h], 0.1));
    w.set(`${p}attn.c_proj.weight`, tensor(rng, [h, h], scale));
    w.set(`${p}attn.c_proj.bias`, tensor(rng, [h], 0.1));
    w.set(`${p}ln_2.weight`, gain(rng, h));
    w.set(`${p}ln_2.bias`, tensor(rng, [h], 0.1));
    w.set(`${p}mlp.c_fc.weight`, tensor(rng, [h, ff], scale));
    w.set(`${p}mlp.c_fc.bias`, tensor(rng, [ff], 0.1));
    w.set(`${p}mlp.c_proj.weight`, tensor(rng, [ff, h], scale));
    w.set(`${p}mlp.c_proj.bias`, tensor(rng, [h], 0.1));
  }
  w.set('ln_f.weight', gain(rng, h));
  w.set('ln_f.bias', tensor(rng, [h], 0.1));
  return w;
}

export function randomBertWeights(cfg: BertConfig, seed: number, scale = 0.5): Map<string, WeightTensor> {
  const rng = new Mulberry32(seed);
  const { hiddenSize: h, intermediateSize: ff } = cfg;
  const w = new Map<string, WeightTensor>();
  w.set('embeddings.word_embeddings.weight', tensor(rng, [cfg.vocabSize, h], scale));
  w.set('embeddings.position_embeddings.weight', tensor(rng, [cfg.maxPositions, h], scale));
  w.set('embeddings.token_type_embeddings.weight', tensor(rng, [cfg.typeVocabSize, h], scale));
  w.set('embeddings.LayerNorm.weight', gain(rng, h));
  w.set('embeddings.LayerNorm.bias', tensor(rng, [h], 0.1));
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `encoder.layer.${i}.`;
    for (const name of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      w.set(`${p}${name}.weight`, tensor(rng, [h, h], scale));
      w.set(`${p}${name}.bias`, tensor(rng, [h], 0.1));
    }
    w.set(`${p}attention.output.LayerNorm.weight`, gain(rng, h));
    w.set(`${p}attention.output.LayerNorm.bias`, tensor(rng, [h], 0.1));
    w.set(`${p}intermediate.dense.weight`, tensor(rng, [ff, h], scale));
    w.set(`${p}intermediate.dense.bias`, tensor(rng, [ff], 0.1));
    w.set(`${p}output.dense.weight`, tensor(rng, [h, ff], scale));
    w.set(`${p}output.dense.bias`, tensor(rng, [h], 0.1));
    w.set(`${p}output.LayerNorm.weight`, gain(rng, h));
    w.set(`${p}output.LayerNorm.bias`, tensor(rng, [h], 0.1));
  }
  return w;
}

export function tinyLlama(seed: number): { config: LlamaConfig; weights: WeightMap } {
  return { config: TINY_LLAMA, weights: randomLlamaWeights(TINY_LLAMA, seed) };
}

export function tinyGpt2(seed: number): { config: Gpt2Config; weights: WeightMap } {
  return { config: TINY_GPT2, weights: randomGpt2Weights(TINY_GPT2, seed) };
}

export function tinyBert(seed: number): { config: BertConfig; weights: WeightMap } {
  return { config: TINY_BERT, weights: randomBertWeights(TINY_BERT, seed) };
}
