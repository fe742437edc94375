// GGUF (llama.cpp) tensor names -> HuggingFace LLaMA checkpoint names.

const GLOBAL_NAMES: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

const BLOCK_NAMES: Record<string, string> = {
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
  attn_norm: 'input_layernorm',
  ffn_norm: 'post_attention_layernorm',
};

const BLOCK_PATTERN = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/;

/** The HuggingFace name of a GGUF tensor, or undefined when the tensor has no LLaMA counterpart (e.g. rope_freqs). */
export function hfNameForGgufTensor(ggufName: string): string | undefined {
  const global = GLOBAL_NAMES[ggufName];
  if (global) return global;
  const match = BLOCK_PATTERN.exec(ggufName);
  if (!match) return undefined;
  const [, layer, part, kind] = match;
  const hfPart = part === undefined ? undefined : BLOCK_NAMES[part];
  if (!hfPart) return undefined;
  return `model.layers.${layer}.${hfPart}.${kind}`;
}

/** Which rotary permutation a tensor carries: Q rows are grouped by attention heads, K rows by KV heads. */
export function rotaryRole(ggufName: string): 'q' | 'k' | undefined {
  if (/^blk\.\d+\.attn_q\.weight$/.test(ggufName)) return 'q';
  if (/^blk\.\d+\.attn_k\.weight$/.test(ggufName)) return 'k';
  return undefined;
}
