// The tokenizer description a GGUF file carries in its `tokenizer.ggml.*` metadata keys.

export interface GgufTokenizerMetadata {
  /** `tokenizer.ggml.model`: "gpt2" means byte-level BPE. */
  readonly model: string;
  /** `tokenizer.ggml.pre`: llama.cpp's name for the pre-tokenisation rules, e.g. "smollm". */
  readonly pre: string | undefined;
  readonly tokens: readonly string[];
  /** Merge rules as "left right" strings, highest priority first. */
  readonly merges: readonly string[];
  /** llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  readonly tokenTypes: readonly number[];
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly unknownTokenId: number | undefined;
  readonly paddingTokenId: number | undefined;
  readonly addBosToken: boolean;
  readonly chatTemplate: string | undefined;
}

function optionalNumber(metadata: Record<string, unknown>, key: string): number | undefined {
  const value = metadata[key];
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new Error(`GGUF metadata '${key}' should be a number, got ${typeof value}`);
}

function stringArray(metadata: Record<string, unknown>, key: string, required: boolean): string[] {
  const value = metadata[key];
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`GGUF metadata '${key}' should be an array of strings; the file carries no usable tokenizer`);
  }
  return value as string[];
}

/** Extracts the tokenizer keys from parsed GGUF metadata; `source` names the file in errors. */
export function tokenizerMetadataFromGguf(metadata: Record<string, unknown>, source: string): GgufTokenizerMetadata {
  const model = metadata['tokenizer.ggml.model'];
  if (typeof model !== 'string') throw new Error(`${source}: GGUF metadata has no 'tokenizer.ggml.model'; the file carries no tokenizer`);
  const tokens = stringArray(metadata, 'tokenizer.ggml.tokens', true);
  const rawTypes = metadata['tokenizer.ggml.token_type'];
  const tokenTypes = Array.isArray(rawTypes) ? rawTypes.map((t) => Number(t)) : tokens.map(() => 1);
  const pre = metadata['tokenizer.ggml.pre'];
  const template = metadata['tokenizer.chat_template'];
  return {
    model,
    pre: typeof pre === 'string' ? pre : undefined,
    tokens,
    merges: stringArray(metadata, 'tokenizer.ggml.merges', false),
    tokenTypes,
    bosTokenId: optionalNumber(metadata, 'tokenizer.ggml.bos_token_id'),
    eosTokenId: optionalNumber(metadata, 'tokenizer.ggml.eos_token_id'),
    unknownTokenId: optionalNumber(metadata, 'tokenizer.ggml.unknown_token_id'),
    paddingTokenId: optionalNumber(metadata, 'tokenizer.ggml.padding_token_id'),
    addBosToken: metadata['tokenizer.ggml.add_bos_token'] === true,
    chatTemplate: typeof template === 'string' ? template : undefined,
  };
}
