// One zod schema per BEIR row type. Unknown JSON keys are dropped: BEIR variants carry extra fields we never use.
import { z } from 'zod';

const id = z.string().min(1, 'must be a non-empty string');

export const corpusRowSchema = z.object({
  _id: id,
  title: z.string().default(''),
  text: z.string(),
});
export type CorpusRow = z.infer<typeof corpusRowSchema>;

export const queryRowSchema = z.object({
  _id: id,
  text: z.string(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type QueryRow = z.infer<typeof queryRowSchema>;

/** Integer relevance grade; negative grades exist in some TREC qrels and count as not relevant. */
export const qrelRowSchema = z.object({
  queryId: id,
  docId: id,
  score: z.number().int(),
});
export type QrelRow = z.infer<typeof qrelRowSchema>;

export const runRowSchema = z.object({
  queryId: id,
  docId: id,
  rank: z.number().int().nonnegative(),
  score: z.number().refine(Number.isFinite, 'must be a finite number'),
  tag: z.string().min(1),
});
export type RunRow = z.infer<typeof runRowSchema>;
