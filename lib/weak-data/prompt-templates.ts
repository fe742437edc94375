// The prompt text shared by prompt tuning, the example filter and generation (identical in all three):
//   "Document: {d1} \n Relevant Query: {q1} \n ... Document: {doc} \n Relevant Query: "
// with literal " \n " separators and a trailing space, exactly as in the SPTAR authors' code.
import { truncateText, type LengthLimit } from './text-truncation.ts';

export interface ExamplePair {
  readonly document: string;
  readonly query: string;
}

export interface PromptLimits {
  readonly document: LengthLimit;
  readonly query: LengthLimit;
}

/** Defaults in words; the LLM stage may further cut by tokens. */
export const DEFAULT_PROMPT_LIMITS: PromptLimits = { document: { unit: 'words', max: 200 }, query: { unit: 'words', max: 48 } };

const SEPARATOR = ' \n ';

/** Examples (M pairs) then the target document, ending in "Relevant Query: " for the model to continue. */
export function buildSptarPrompt(examples: readonly ExamplePair[], document: string, limits: PromptLimits = DEFAULT_PROMPT_LIMITS): string {
  const parts = examples.map((e) => `Document: ${truncateText(e.document, limits.document)}${SEPARATOR}Relevant Query: ${truncateText(e.query, limits.query)}`);
  parts.push(`Document: ${truncateText(document, limits.document)}${SEPARATOR}Relevant Query: `);
  return parts.join(SEPARATOR);
}

/** The text a training pair adds after its prompt: the query the loss is computed on. */
export const targetQuery = (query: string, limits: PromptLimits = DEFAULT_PROMPT_LIMITS): string => truncateText(query, limits.query);
