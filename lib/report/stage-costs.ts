// Per-stage cost accounting: cost records written by the workers' activity interceptor (one per activity attempt)
// summed per pipeline stage, beside the stage's wall-clock span from the workflow.
import { z } from 'zod';

export const costRecordSchema = z.object({
  activityType: z.string(),
  activityId: z.string(),
  workflowId: z.string(),
  attempt: z.number().int(),
  startedAt: z.string(),
  wallSeconds: z.number().nonnegative(),
  /** process.cpuUsage() user + system delta over the attempt; includes the process's worker threads. */
  cpuSeconds: z.number().nonnegative(),
  ok: z.boolean(),
  /** true when the attempt returned a result stored by an earlier attempt or run instead of computing it. */
  reused: z.boolean().optional(),
});
export type CostRecord = z.infer<typeof costRecordSchema>;

/**
 * Which stage each activity type belongs to. Generation-side activities (`generate`) run for both augmentors:
 * their stage is read from the generation child workflow id (`<pipeline>/generate-sptar/shard-3`), or, for those
 * the pipeline workflow runs itself, from the stage whose time span holds the activity's start.
 */
const ACTIVITY_STAGES: Readonly<Record<string, string>> = {
  findLastSuccess: 'prepare',
  prepareData: 'prepare',
  buildBm25Index: 'bm25',
  evaluateBm25: 'bm25',
  tunePrompt: 'tune-prompt',
  scoreExampleGroup: 'filter-examples',
  generateShard: 'generate',
  filterShardWeakQueries: 'generate',
  mergeKeptPairs: 'generate',
  trainRetriever: 'train-retrievers',
  evaluateDense: 'evaluate',
  writeReport: 'report',
  recordSuccess: 'report',
};

interface StageSpan {
  readonly stage: string;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export function stageOf(record: CostRecord, spans: readonly StageSpan[]): string {
  const mapped = ACTIVITY_STAGES[record.activityType];
  if (mapped === undefined) return 'other';
  if (mapped !== 'generate') return mapped;
  const child = record.workflowId.split('/')[1];
  if (child?.startsWith('generate-')) return child;
  const t = Date.parse(record.startedAt);
  const span = spans.find((s) => s.stage.startsWith('generate-') && Date.parse(s.startedAt) <= t && t <= Date.parse(s.finishedAt));
  return span?.stage ?? 'generate';
}

export interface StageCostRow {
  readonly stage: string;
  /** Wall-clock span of the stage in the workflow; null for stages with records but no span. */
  readonly wallSeconds: number | null;
  /** Sum of activity wall time (exceeds the span when activities ran in parallel). */
  readonly activitySeconds: number;
  readonly cpuSeconds: number;
  readonly attempts: number;
  readonly failedAttempts: number;
}

/** One row per stage with a span (in span order), then stages seen only in cost records. */
export function summariseStageCosts(records: readonly CostRecord[], spans: readonly StageSpan[]): StageCostRow[] {
  const rows = new Map<string, { wallSeconds: number | null; activitySeconds: number; cpuSeconds: number; attempts: number; failedAttempts: number }>();
  for (const s of spans) {
    const wall = (Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000;
    const prev = rows.get(s.stage);
    rows.set(s.stage, { wallSeconds: (prev?.wallSeconds ?? 0) + wall, activitySeconds: 0, cpuSeconds: 0, attempts: 0, failedAttempts: 0 });
  }
  for (const r of records) {
    const stage = stageOf(r, spans);
    const row = rows.get(stage) ?? { wallSeconds: null, activitySeconds: 0, cpuSeconds: 0, attempts: 0, failedAttempts: 0 };
    row.activitySeconds += r.wallSeconds;
    row.cpuSeconds += r.cpuSeconds;
    row.attempts++;
    if (!r.ok) row.failedAttempts++;
    rows.set(stage, row);
  }
  return [...rows.entries()].map(([stage, r]) => ({ stage, ...r }));
}
