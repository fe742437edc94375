// A tokenizer rebuilt from GGUF metadata: the `tokenizer.ggml.*` keys become an equivalent tokenizer.json
// object that @huggingface/tokenizers loads like any other.
import { BYTE_LEVEL_TOKENIZER_CONFIG, BytePreTokenizers, byteLevelBpeTokenizerJson, type BytePreTokenizerName } from './byte-level-bpe.ts';
import type { GgufTokenizerMetadata } from './gguf-tokenizer-metadata.ts';
import { TextTokenizer } from './text-tokenizer.ts';

const CONTROL = 3;
const USER_DEFINED = 4;

/** llama.cpp pre-tokenizer names this module can express. */
const PRE_TOKENIZERS: Record<string, BytePreTokenizerName> = {
  smollm: 'smollm',
  'gpt-2': 'gpt-2',
  default: 'gpt-2',
};

export function tokenizerFromGgufMetadata(meta: GgufTokenizerMetadata, source = 'GGUF file'): TextTokenizer {
  if (meta.model !== 'gpt2') {
    throw new Error(`${source}: tokenizer model '${meta.model}' is not supported (supported: gpt2, i.e. byte-level BPE)`);
  }
  const preName = meta.pre ?? 'default';
  const pre = PRE_TOKENIZERS[preName];
  if (pre === undefined) {
    throw new Error(
      `${source}: pre-tokenizer '${preName}' is not supported (supported: ${Object.keys(PRE_TOKENIZERS).join(', ')}); ` +
        `add its split rules next to ${Object.keys(BytePreTokenizers).join(' / ')}`,
    );
  }
  if (meta.tokenTypes.length !== meta.tokens.length) {
    throw new Error(`${source}: ${meta.tokenTypes.length} token types for ${meta.tokens.length} tokens`);
  }
  const addedTokens = meta.tokens.flatMap((content, id) => {
    const type = meta.tokenTypes[id];
    return type === CONTROL || type === USER_DEFINED ? [{ id, content, special: type === CONTROL }] : [];
  });
  const json = byteLevelBpeTokenizerJson({ tokens: meta.tokens, merges: meta.merges, addedTokens, preTokenizer: pre });
  return TextTokenizer.fromJson(json, BYTE_LEVEL_TOKENIZER_CONFIG, {
    bos: meta.bosTokenId,
    eos: meta.eosTokenId,
    pad: meta.paddingTokenId,
    unk: meta.unknownTokenId,
  });
}
