// The CLI's progress lines: the stage (from the progress query), a bar with done/total and ETA for every running
// activity (from its last heartbeat) and for generation shards (from the generation workflow's query). Pure
// functions of the records, so the exact strings are tested.
import type { ActivityProgress } from '../common/activity-progress.ts';
import type { GenerationProgress } from '../common/generation-types.ts';
import type { PipelineProgress } from '../common/pipeline-stages.ts';
import type { PendingActivity, RunSnapshot } from './run-progress.ts';

const BAR_WIDTH = 30;

/** `[#####.....]`: `done / total` of `width` cells. */
export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.min(width, Math.max(0, Math.round((done / total) * width))) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** A duration for people: `45 s`, `12 min`, `3.5 h`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export const formatEta = (seconds: number | null): string => (seconds === null ? '?' : formatDuration(seconds));

const formatRate = (perSecond: number): string => (perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2));

/** The ETA of a record that reached the server `ageSeconds` ago, counted from now. */
export const etaNow = (p: ActivityProgress, ageSeconds = 0): number | null => (p.etaSeconds === null ? null : Math.max(0, p.etaSeconds - ageSeconds));

/**
 * One activity's progress record as a line, e.g.
 * `train-retrievers sptar [######........................] 12/60 steps; epoch 1/1, dev search 320/500 documents; 0.21 steps/s, ETA 4 min`.
 */
export function formatActivityProgress(p: ActivityProgress, ageSeconds = 0): string {
  const label = p.subject ? `${p.stage} ${p.subject}` : p.stage;
  const epoch = p.epoch !== undefined && p.epoch > 0 && p.epochs !== undefined ? `${p.phase && p.phase !== 'mixed' ? `${p.phase} ` : ''}epoch ${p.epoch}/${p.epochs}` : undefined;
  const task = p.part ? `${p.task} ${p.part.done}/${p.part.total} ${p.part.unit}` : p.task;
  const rate = p.perSecond === null ? '' : `${formatRate(p.perSecond)} ${p.unit}/s, `;
  return `${label} ${progressBar(p.done, p.total)} ${p.done}/${p.total} ${p.unit}; ${[epoch, task].filter((x) => x !== undefined).join(', ')}; ${rate}ETA ${formatEta(etaNow(p, ageSeconds))}`;
}

/** A running activity: its progress line, or what is known without one. */
export function formatPendingActivity(a: PendingActivity): string {
  if (a.progress) return formatActivityProgress(a.progress, a.heartbeatAgeSeconds);
  const attempt = a.attempt > 1 ? `, attempt ${a.attempt}` : '';
  return `${a.activityType}: running${a.runningSeconds === undefined ? '' : ` for ${formatDuration(a.runningSeconds)}`}${attempt}`;
}

/** One line of shard progress: a bar, shard counts, throughput and ETA. */
export function formatGeneration(g: GenerationProgress): string {
  return (
    `${progressBar(g.shardsDone, g.shardsTotal)} shards ${g.shardsDone}/${g.shardsTotal}, running ${g.shardsRunning.length}, ` +
    `failed ${g.shardsFailed.length}${g.paused ? ' (paused)' : ''}; ${g.generated} queries, ${g.failedDocuments} failed docs; ` +
    `${g.documentsPerSecond.toFixed(2)} docs/s, ETA ${formatEta(g.etaSeconds)}` +
    (g.waitingForOperator ? `; WAITING for an operator: \`sptar retry <run>\` re-queues shard(s) ${g.shardsFailed.join(', ')}, \`sptar accept <run>\` goes on without them` : '')
  );
}

/**
 * Seconds until a stage of several activities is done: the running ones' ETA, plus those still waiting at the
 * running ones' pace (the same work each: groups, systems; retrievers train on different pair counts, so rougher).
 * Null while a running activity has no rate yet.
 */
export function stageEtaSeconds(p: PipelineProgress, activities: readonly PendingActivity[]): number | null {
  const running = activities.filter((a) => a.started && a.progress?.stage === p.stage);
  if (running.length === 0) return null;
  let longest = 0;
  let perTask = 0;
  for (const a of running) {
    const eta = etaNow(a.progress!, a.heartbeatAgeSeconds);
    if (eta === null || !a.progress!.perSecond) return null;
    longest = Math.max(longest, eta);
    perTask += a.progress!.total / a.progress!.perSecond / running.length;
  }
  const waiting = p.stageTasks ? Math.max(0, p.stageTasks.total - p.stageTasks.done - running.length) : 0;
  return longest + (waiting * perTask) / running.length;
}

/**
 * The stage line, e.g. `stage evaluate 8/9 (done: prepare, ...); systems 1/4 done, stage ETA 12 min`. The stage
 * ETA is shown when activities of the stage are still waiting (a single running one has its own ETA).
 */
export function formatStage(p: PipelineProgress, activities: readonly PendingActivity[] = []): string {
  const position = p.plan && p.plan.includes(p.stage) ? ` ${p.plan.indexOf(p.stage) + 1}/${p.plan.length}` : '';
  const done = p.stagesDone.length ? ` (done: ${p.stagesDone.join(', ')})` : '';
  let tasks = '';
  if (p.stageTasks) {
    const running = activities.filter((a) => a.started && a.progress?.stage === p.stage).length;
    const waiting = p.stageTasks.total - p.stageTasks.done - running;
    const eta = waiting > 0 ? stageEtaSeconds(p, activities) : null;
    tasks = `; ${p.stageTasks.unit} ${p.stageTasks.done}/${p.stageTasks.total} done${waiting > 0 ? `, stage ETA ${formatEta(eta)}` : ''}`;
  }
  return `stage ${p.stage}${position}${done}${tasks}`;
}

/** What the CLI prints for a run, and the part of it whose change is worth a new line in a log (not a terminal). */
export interface ProgressView {
  readonly lines: readonly string[];
  /** Changes with the stage, a finished activity of it, a running activity's task or each tenth of its progress. */
  readonly milestone: string;
  /** Changes with the stage: a terminal keeps the last view of a stage and starts a new block below it. */
  readonly section: string;
}

export function progressView(s: RunSnapshot): ProgressView {
  const running = s.activities.filter((a) => a.started);
  const lines = [
    `  ${formatStage(s.progress, s.activities)}`,
    ...(s.generation ? [`    ${formatGeneration(s.generation)}`] : []),
    ...running.map((a) => `    ${formatPendingActivity(a)}`),
  ];
  const tenth = (done: number, total: number) => (total > 0 ? Math.floor((done / total) * 10) : 0);
  const milestone = [
    s.progress.stage,
    s.progress.stageTasks?.done ?? '',
    s.generation ? `${s.generation.shardsDone}/${s.generation.shardsFailed.length}/${s.generation.paused}` : '',
    ...running.map((a) => {
      const p = a.progress;
      return p ? `${a.activityId}:${p.task}:${p.part?.unit ?? ''}:${tenth(p.done, p.total)}` : `${a.activityId}:-`;
    }),
  ].join('|');
  return { lines, milestone, section: s.progress.stage };
}
