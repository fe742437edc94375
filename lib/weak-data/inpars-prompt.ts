// The InPars-style baseline: the same LLM prompted with a fixed, hand-written few-shot prompt (no soft prompt, no
// example selection). It uses the SPTAR template so that the baseline differs from SPTAR only in what the paper
// compares: the tuned soft prompt and the filtered examples.
import { buildSptarPrompt, DEFAULT_PROMPT_LIMITS, type ExamplePair, type PromptLimits } from './prompt-templates.ts';

/** Three short pairs in the style of scientific claims (SciFact-like), written for this project. */
export const INPARS_EXAMPLES: readonly ExamplePair[] = [
  {
    document:
      'In a twelve-week randomised trial of 310 adults with stage 1 hypertension, supervised aerobic exercise three times a week lowered resting systolic blood pressure by 8 mmHg compared with usual care.',
    query: 'Aerobic exercise lowers blood pressure in adults with hypertension.',
  },
  {
    document:
      'Mice lacking interleukin-6 showed delayed hepatocyte proliferation and impaired liver regeneration after partial hepatectomy; a single dose of interleukin-6 restored DNA synthesis in the remaining liver.',
    query: 'Interleukin-6 is required for normal liver regeneration.',
  },
  {
    document:
      'Among 4,012 schoolchildren followed over two winters, daily vitamin D supplementation did not change the incidence of upper respiratory tract infections relative to placebo.',
    query: 'Vitamin D supplements do not prevent respiratory infections in children.',
  },
];

export function buildInparsPrompt(document: string, limits: PromptLimits = DEFAULT_PROMPT_LIMITS): string {
  return buildSptarPrompt(INPARS_EXAMPLES, document, limits);
}
