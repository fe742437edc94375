// One tokenizer type for every model: a thin wrapper over @huggingface/tokenizers that exposes ids and the
// special-token ids the generation and encoder code need.
import { Tokenizer } from '@huggingface/tokenizers';

export interface SpecialTokenIds {
  readonly bos: number | undefined;
  readonly eos: number | undefined;
  readonly pad: number | undefined;
  readonly unk: number | undefined;
  readonly cls: number | undefined;
  readonly sep: number | undefined;
}

interface EncodeOptions {
  /** Apply the tokenizer's post-processor (e.g. BERT's [CLS] ... [SEP]). Default false. */
  readonly addSpecialTokens?: boolean;
}

interface DecodeOptions {
  readonly skipSpecialTokens?: boolean;
}

export class TextTokenizer {
  readonly special: SpecialTokenIds;
  readonly vocabSize: number;

  constructor(
    private readonly tokenizer: Tokenizer,
    special: Partial<SpecialTokenIds>,
  ) {
    this.vocabSize = tokenizer.get_vocab(true).size;
    this.special = {
      bos: special.bos,
      eos: special.eos,
      pad: special.pad,
      unk: special.unk,
      cls: special.cls,
      sep: special.sep,
    };
  }

  /** Builds a tokenizer from a tokenizer.json object (and optional tokenizer_config.json object). */
  static fromJson(tokenizerJson: object, tokenizerConfig: object = {}, special: Partial<SpecialTokenIds> = {}): TextTokenizer {
    return new TextTokenizer(new Tokenizer(tokenizerJson, tokenizerConfig), special);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  tokenize(text: string): string[] {
    return this.tokenizer.tokenize(text, { add_special_tokens: false });
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** The id of a token that must exist, with an error naming it otherwise. */
  requireId(token: string): number {
    const id = this.tokenToId(token);
    if (id === undefined) throw new Error(`token '${token}' is not in the vocabulary`);
    return id;
  }

  /** Ids of every vocabulary entry whose decoded text contains `text`, e.g. "\n" for one-line outputs' stop tokens. */
  idsContaining(text: string): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.vocabSize; id++) if (this.decode([id]).includes(text)) ids.push(id);
    return ids;
  }
}
