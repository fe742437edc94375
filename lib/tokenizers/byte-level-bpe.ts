// Builds a tokenizer.json object for a byte-level BPE vocabulary (GPT-2 style) from a token list and merges:
// the form vocabularies take in GGUF metadata and in GPT-2's vocab.json + merges.txt.

interface AddedTokenSpec {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
}

/** How text is split before BPE; named after llama.cpp's `tokenizer.ggml.pre` values. */
export const BytePreTokenizers = {
  /** GPT-2's regex split on byte-level text. */
  'gpt-2': { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  /** SmolLM / StarCoder: every digit on its own, then GPT-2's regex. */
  smollm: {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Digits', individual_digits: true },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    ],
  },
} as const;

export type BytePreTokenizerName = keyof typeof BytePreTokenizers;

interface ByteLevelBpeSpec {
  /** Token strings by id (byte-level alphabet, e.g. "Ġthe"). */
  readonly tokens: readonly string[];
  /** Merge rules "left right", highest priority first. */
  readonly merges: readonly string[];
  readonly addedTokens: readonly AddedTokenSpec[];
  readonly preTokenizer: BytePreTokenizerName;
}

/** The tokenizer.json object equivalent to the spec, ready for `new Tokenizer(json, config)`. */
export function byteLevelBpeTokenizerJson(spec: ByteLevelBpeSpec): object {
  const seen = new Map<string, number>();
  spec.tokens.forEach((token, id) => {
    const earlier = seen.get(token);
    if (earlier !== undefined) throw new Error(`token list has '${token}' twice (ids ${earlier} and ${id}); the vocabulary is corrupt`);
    seen.set(token, id);
  });
  // Object.fromEntries defines own properties, so tokens such as "__proto__" stay ordinary keys.
  const vocab = Object.fromEntries(spec.tokens.map((token, id) => [token, id] as const));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: spec.addedTokens.map((t) => ({
      id: t.id,
      content: t.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: t.special,
    })),
    normalizer: null,
    pre_tokenizer: BytePreTokenizers[spec.preTokenizer],
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [...spec.merges],
    },
  };
}

/** Decoding must give back exactly the bytes that were encoded, so no space clean-up. */
export const BYTE_LEVEL_TOKENIZER_CONFIG = { clean_up_tokenization_spaces: false } as const;
