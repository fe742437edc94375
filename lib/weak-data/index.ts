export { filterWeakPairs } from './bm25-weak-filter.ts';
export { postProcessGeneratedQuery } from './generated-query.ts';
export { buildInparsPrompt, INPARS_EXAMPLES } from './inpars-prompt.ts';
export { buildSptarPrompt, DEFAULT_PROMPT_LIMITS, targetQuery, type ExamplePair, type PromptLimits } from './prompt-templates.ts';
export { truncateText, type LengthLimit } from './text-truncation.ts';
