import { z } from 'zod';
import { STAGES } from './pipeline-stages.ts';

// The progress record every long model activity heartbeats: the same shape for prompt tuning, group scoring,
// retriever training and dense evaluation, so the CLI (from DescribeWorkflowExecution's pending activities) and the
// Temporal UI (which shows each pending activity's last heartbeat) read one format. A few hundred bytes per beat.

export const PROGRESS_UNITS = ['items', 'steps', 'texts', 'documents', 'queries'] as const;
export type ProgressUnit = (typeof PROGRESS_UNITS)[number];

const count = z.number().int().nonnegative();

export const activityProgressSchema = z
  .object({
    stage: z.enum(STAGES).describe('the pipeline stage the activity belongs to'),
    subject: z.string().optional().describe("which of the stage's activities: a retriever system, an example group"),
    task: z.string().describe("what runs now, e.g. 'training', 'S_eval loss', 'encoding the corpus'"),
    unit: z.enum(PROGRESS_UNITS).describe('what done and total count'),
    done: count.describe('units finished in this activity, including those of epochs resumed from a checkpoint'),
    total: count.describe('units of the whole activity (an upper bound where early stopping may end it sooner)'),
    epoch: count.optional().describe('the epoch in progress (0: scoring before the first one)'),
    epochs: z.number().int().positive().optional(),
    phase: z.string().optional().describe("retriever training phase: 'mixed', 'weak' or 'labeled'"),
    part: z
      .object({ unit: z.enum(PROGRESS_UNITS), done: count, total: count })
      .strict()
      .optional()
      .describe('progress inside the current task when it is not counted in done (the dev search between epochs)'),
    perSecond: z.number().nonnegative().nullable().describe('units per second in this attempt; null until measured'),
    etaSeconds: z.number().nonnegative().nullable().describe('seconds until done reaches total at that rate'),
    checkpoint: z.string().optional().describe("the checkpoint just stored: an epoch's, or a retriever training's step checkpoint inside an epoch"),
  })
  .strict();
export type ActivityProgress = z.infer<typeof activityProgressSchema>;

/** What a stage function reports; the activity adds the rate and ETA (`progressTracker`). */
export type ProgressUpdate = Omit<ActivityProgress, 'perSecond' | 'etaSeconds'>;
export type ProgressBeat = (update: ProgressUpdate) => void;

/** The record of a heartbeat, or undefined when the details are something else (older code, other activities). */
export function parseActivityProgress(details: unknown): ActivityProgress | undefined {
  const parsed = activityProgressSchema.safeParse(details);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Adds `perSecond` and `etaSeconds` to updates. The rate is measured from the first update at which `done` moved,
 * so neither loading models nor work resumed from a checkpoint (both before it) count as speed; a new subject, unit
 * or a `done` that went back starts the measurement again.
 */
export function progressTracker(now: () => number = Date.now): (update: ProgressUpdate) => ActivityProgress {
  let key: string | undefined;
  let last = -1;
  let base: { readonly at: number; readonly done: number } | undefined;
  return (u) => {
    const k = `${u.stage}/${u.subject ?? ''}/${u.unit}`;
    const t = now();
    if (k !== key || u.done < last) {
      key = k;
      base = undefined;
    } else if (base === undefined && u.done > last) base = { at: t, done: u.done };
    last = u.done;
    const seconds = base === undefined ? 0 : (t - base.at) / 1000;
    const perSecond = base !== undefined && seconds > 0 && u.done > base.done ? (u.done - base.done) / seconds : null;
    return {
      ...u,
      perSecond: perSecond === null ? null : Number(perSecond.toPrecision(3)),
      etaSeconds: perSecond === null ? null : Math.round(Math.max(0, u.total - u.done) / perSecond),
    };
  };
}
