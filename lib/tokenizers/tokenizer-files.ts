// Tokenizers from files on disk: a HuggingFace tokenizer.json (+ tokenizer_config.json when present), or GPT-2's
// vocab.json + merges.txt turned into the same byte-level BPE description a GGUF file yields.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BYTE_LEVEL_TOKENIZER_CONFIG, byteLevelBpeTokenizerJson } from './byte-level-bpe.ts';
import { TextTokenizer, type SpecialTokenIds } from './text-tokenizer.ts';

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read tokenizer file (${(err as Error).message})`, { cause: err });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Special ids found by their conventional token strings. */
function conventionalSpecialIds(t: TextTokenizer): Partial<SpecialTokenIds> {
  const gptEnd = t.tokenToId('<|endoftext|>');
  return {
    bos: gptEnd,
    eos: gptEnd,
    pad: t.tokenToId('[PAD]'),
    unk: t.tokenToId('[UNK]'),
    cls: t.tokenToId('[CLS]'),
    sep: t.tokenToId('[SEP]'),
  };
}

/** Loads tokenizer.json; tokenizer_config.json in the same folder is used when present. */
export async function loadTokenizerJson(path: string): Promise<TextTokenizer> {
  const json = await readJson(path);
  const configPath = join(dirname(path), 'tokenizer_config.json');
  const config = existsSync(configPath) ? await readJson(configPath) : {};
  const probe = TextTokenizer.fromJson(json, config);
  return TextTokenizer.fromJson(json, config, conventionalSpecialIds(probe));
}

/** GPT-2 vocab.json + merges.txt, built exactly as a GGUF token list would be. */
export async function loadGpt2VocabFiles(vocabPath: string, mergesPath: string): Promise<TextTokenizer> {
  const vocab = await readJson(vocabPath);
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new Error(`${vocabPath}: token '${token}' has id ${String(id)}, not an index`);
    tokens[id] = token;
  }
  for (let id = 0; id < tokens.length; id++) if (tokens[id] === undefined) throw new Error(`${vocabPath}: no token has id ${id}`);
  const lines = (await readFile(mergesPath, 'utf8')).split('\n');
  const merges = lines.filter((line, i) => line.trim() !== '' && !(i === 0 && line.startsWith('#version')));
  merges.forEach((m, i) => {
    if (m.split(' ').length !== 2) throw new Error(`${mergesPath}:${i + 2}: merge '${m}' is not two space-separated symbols`);
  });
  const endId = vocab['<|endoftext|>'];
  const addedTokens = typeof endId === 'number' ? [{ id: endId, content: '<|endoftext|>', special: true }] : [];
  const json = byteLevelBpeTokenizerJson({ tokens, merges, addedTokens, preTokenizer: 'gpt-2' });
  const special = typeof endId === 'number' ? { bos: endId, eos: endId } : {};
  return TextTokenizer.fromJson(json, BYTE_LEVEL_TOKENIZER_CONFIG, special);
}
