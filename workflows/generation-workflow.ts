import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { Bm25Activities } from '../activities/bm25-activities.ts';
import { z } from 'zod';
import type { GenerationActivities } from '../activities/generation-activities.ts';
import { shardDocumentsKey } from '../common/artifact-keys.ts';
import { artifactRefSchema, type ArtifactRef } from '../common/artifact-ref.ts';
import { shardSetSchema, type GenerationProgress, type GenerationSettings, type ShardResult, type ShardSet } from '../common/generation-types.ts';
import { describeZodIssues } from '../common/zod-issues.ts';
import { modelActivityOptions } from './activity-profiles.ts';

export const generationProgressQuery = defineQuery<GenerationProgress>('generationProgress');
/** Puts failed shards back in the queue; returns how many were re-queued. */
export const retryFailedShardsUpdate = defineUpdate<number, [number[]?]>('retryFailedShards');
/** Goes on without the failed shards (the pipeline records their documents as not done); returns how many. */
export const acceptFailedShardsUpdate = defineUpdate<number>('acceptFailedShards');
/** Sent to the parent workflow when generation starts and stops waiting for an operator. */
export const generationWaitingSignal = defineSignal<[GenerationWaiting]>('generationWaiting');

export interface GenerationWaiting {
  readonly workflowId: string;
  readonly waiting: boolean;
  readonly shardsFailed: readonly number[];
}
export const pauseGenerationUpdate = defineUpdate<void>('pauseGeneration');
export const resumeGenerationUpdate = defineUpdate<void>('resumeGeneration');

export interface ShardTask {
  /** Where the shard outputs go (`generationShardKeys(outputPrefix, i)`); derived from the stage's scope. */
  readonly outputPrefix: string;
  /** Stage inputs every shard shares (LLM, prompt, examples, decoding settings); the orchestration passes them on. */
  readonly shared: GenerationSettings;
  /** When set, each shard's weak queries go through the BM25 top-k filter right after generation. */
  readonly filter?: { readonly index: ArtifactRef; readonly topK: number };
}

interface Totals {
  shardsDone: number;
  documentsDone: number;
  generated: number;
  failedDocuments: number;
  /** Milliseconds spent generating over all runs of this chain (for documents/s across continue-as-new). */
  activeMs: number;
}

export interface GenerationInput {
  readonly shards: ShardSet;
  readonly task: ShardTask;
  readonly maxConcurrentShards: number;
  /** 'wait': after all shards ran, wait for an operator to retry failed shards or accept; 'continue': go on. */
  readonly onShardFailure: 'wait' | 'continue';
  /** Seconds without a heartbeat before a shard's activity counts as lost and is retried (the config's default when absent). */
  readonly heartbeatTimeoutSeconds?: number;
  /** Shard children handled per run before continuing as new; keeps each history far below Temporal's limits. */
  readonly shardsPerRun?: number;
  readonly carried?: { next: number; retryQueue: number[]; failed: number[]; totals: Totals; paused: boolean };
}

export interface GenerationResult {
  readonly shardsTotal: number;
  readonly shardsFailed: readonly number[];
  readonly documentsDone: number;
  readonly generated: number;
  readonly failedDocuments: number;
}

const DEFAULT_SHARDS_PER_RUN = 500; // ~10 history events per shard child: ~5,000 events per run
const MAX_SHARDS_PER_RUN = 5_000; // ~50,000 events per run: Temporal's warning threshold is 10,240 events x 5

const shardTaskSchema = z
  .object({
    outputPrefix: z.string().min(1),
    // The model worker's generator validates the settings it runs with (generationSettingsSchema).
    shared: z.custom<GenerationSettings>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'an object of generation settings'),
    filter: z.object({ index: artifactRefSchema, topK: z.number().int().min(1).max(1000) }).strict().optional(),
  })
  .strict();
const totalsSchema = z.object({
  shardsDone: z.number().int().nonnegative(),
  documentsDone: z.number().int().nonnegative(),
  generated: z.number().int().nonnegative(),
  failedDocuments: z.number().int().nonnegative(),
  activeMs: z.number().nonnegative(),
});
const shardIndexList = z.array(z.number().int().nonnegative());
const generationInputSchema = z
  .object({
    shards: shardSetSchema,
    task: shardTaskSchema,
    maxConcurrentShards: z.number().int().min(1).max(1024),
    onShardFailure: z.enum(['wait', 'continue']),
    heartbeatTimeoutSeconds: z.number().positive().max(86_400).optional(),
    shardsPerRun: z.number().int().min(1).max(MAX_SHARDS_PER_RUN).optional(),
    carried: z
      .object({ next: z.number().int().nonnegative(), retryQueue: shardIndexList, failed: shardIndexList, totals: totalsSchema, paused: z.boolean() })
      .strict()
      .optional(),
  })
  .strict();
const shardInputSchema = z
  .object({ shards: shardSetSchema, index: z.number().int().nonnegative(), task: shardTaskSchema, heartbeatTimeoutSeconds: z.number().positive().max(86_400).optional() })
  .strict();

/** Validates a workflow input; a bad one fails the workflow at once, non-retryable, naming every problem. */
function validInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`${what}: ${describeZodIssues(parsed.error)}`, 'ConfigError');
  return parsed.data;
}

/**
 * Generates weak queries for every shard with a sliding window of child workflows (one per shard, stable ids
 * `${parentId}/shard-${i}`), and continues as new before the history grows large. Failed shards are recorded and
 * can be retried by an update without touching finished ones.
 */
export async function generateWeakQueriesWorkflow(raw: GenerationInput): Promise<GenerationResult> {
  const input: GenerationInput = validInput(generationInputSchema, raw, 'generation input');
  const info = workflowInfo();
  const c = input.carried;
  let next = c?.next ?? 0;
  const retryQueue: number[] = [...(c?.retryQueue ?? [])];
  const failed = new Set<number>(c?.failed ?? []);
  const totals: Totals = { ...(c?.totals ?? { shardsDone: 0, documentsDone: 0, generated: 0, failedDocuments: 0, activeMs: 0 }) };
  let paused = c?.paused ?? false;
  let accepted = false;
  // Executions started before the operator decided about failed shards accepted them after a day of waiting.
  const operatorDecides = patched('operator-decides-failed-shards');
  let waiting = false;
  const running = new Map<number, Promise<void>>();
  const runStartedMs = Date.now();
  let handledThisRun = 0;
  const shardsPerRun = input.shardsPerRun ?? DEFAULT_SHARDS_PER_RUN;

  setHandler(generationProgressQuery, (): GenerationProgress => {
    const activeMs = totals.activeMs + (Date.now() - runStartedMs);
    const rate = activeMs > 0 ? (totals.documentsDone * 1000) / activeMs : 0;
    const remaining = input.shards.documents - totals.documentsDone;
    return {
      shardsTotal: input.shards.count,
      shardsDone: totals.shardsDone,
      shardsRunning: [...running.keys()].sort((a, b) => a - b),
      shardsFailed: [...failed].sort((a, b) => a - b),
      documentsDone: totals.documentsDone,
      generated: totals.generated,
      failedDocuments: totals.failedDocuments,
      paused,
      ...(waiting ? { waitingForOperator: true } : {}),
      documentsPerSecond: rate,
      etaSeconds: rate > 0 ? remaining / rate : null,
    };
  });
  setHandler(
    retryFailedShardsUpdate,
    (indices?: number[]) => {
      const chosen = (indices ?? [...failed]).filter((i) => failed.has(i));
      for (const i of chosen) {
        failed.delete(i);
        retryQueue.push(i);
      }
      accepted = false;
      return chosen.length;
    },
    {
      // A bad argument is rejected before it reaches the history; the run goes on as it was.
      validator: (indices?: unknown) => {
        if (indices === undefined) return;
        const parsed = shardIndexList.safeParse(indices);
        if (!parsed.success) throw new Error(`retryFailedShards takes a list of shard numbers: ${describeZodIssues(parsed.error)}`);
        const unknown = parsed.data.filter((i) => !failed.has(i));
        if (unknown.length > 0) {
          throw new Error(`retryFailedShards: shard(s) ${unknown.join(', ')} have not failed (failed: ${[...failed].sort((a, b) => a - b).join(', ') || 'none'})`);
        }
      },
    },
  );
  setHandler(
    acceptFailedShardsUpdate,
    () => {
      accepted = true;
      return failed.size;
    },
    {
      validator: () => {
        if (failed.size === 0) throw new Error('acceptFailedShards: no shard has failed');
      },
    },
  );
  setHandler(pauseGenerationUpdate, () => {
    paused = true;
  });
  setHandler(resumeGenerationUpdate, () => {
    paused = false;
  });

  const startShard = (index: number): void => {
    const done = executeChild(generateShardWorkflow, {
      workflowId: `${info.workflowId}/shard-${index}`,
      args: [{ shards: input.shards, index, task: input.task, ...(input.heartbeatTimeoutSeconds === undefined ? {} : { heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds }) }],
    }).then(
      (r) => {
        totals.shardsDone += 1;
        totals.documentsDone += r.documents;
        totals.generated += r.generated;
        totals.failedDocuments += r.failed;
      },
      (err: unknown) => {
        if (!(err instanceof ChildWorkflowFailure)) throw err;
        failed.add(index);
      },
    );
    running.set(
      index,
      done.finally(() => running.delete(index)),
    );
    handledThisRun += 1;
  };

  const pending = (): boolean => retryQueue.length > 0 || next < input.shards.count;
  for (;;) {
    while (!paused && running.size < input.maxConcurrentShards && pending() && handledThisRun < shardsPerRun) {
      startShard(retryQueue.shift() ?? next++);
    }
    if (running.size > 0) {
      await Promise.race(running.values());
      continue;
    }
    if (pending() && !paused && (handledThisRun >= shardsPerRun || workflowInfo().continueAsNewSuggested)) {
      await condition(allHandlersFinished);
      totals.activeMs += Date.now() - runStartedMs;
      return continueAsNew<typeof generateWeakQueriesWorkflow>({
        ...input,
        carried: { next, retryQueue, failed: [...failed], totals, paused },
      });
    }
    if (paused) {
      await condition(() => !paused);
      continue;
    }
    if (pending()) continue;
    if (failed.size > 0 && input.onShardFailure === 'wait' && !accepted) {
      if (operatorDecides) {
        // Wait, visibly and for as long as it takes, for an operator: retryFailedShards re-queues shards,
        // acceptFailedShards goes on without them. A wait adds no history events.
        waiting = true;
        await notifyParent(true, failed);
        await condition(() => retryQueue.length > 0 || accepted);
        waiting = false;
        await notifyParent(false, failed);
        continue;
      }
      await condition(() => retryQueue.length > 0, '1 day');
      if (retryQueue.length === 0) accepted = true;
      continue;
    }
    break;
  }
  await condition(allHandlersFinished);
  return {
    shardsTotal: input.shards.count,
    shardsFailed: [...failed].sort((a, b) => a - b),
    documentsDone: totals.documentsDone,
    generated: totals.generated,
    failedDocuments: totals.failedDocuments,
  };
}

/** Tells the parent workflow (when there is one) that generation waits for an operator, or no longer does. */
async function notifyParent(waiting: boolean, failed: ReadonlySet<number>): Promise<void> {
  const info = workflowInfo();
  if (!info.parent) return;
  const signal: GenerationWaiting = { workflowId: info.workflowId, waiting, shardsFailed: [...failed].sort((a, b) => a - b) };
  // A parent that has closed cannot be told; the wait itself is still visible in this workflow's progress.
  await getExternalWorkflowHandle(info.parent.workflowId).signal(generationWaitingSignal, signal).catch(() => undefined);
}

export interface ShardInput {
  readonly shards: ShardSet;
  readonly index: number;
  readonly task: ShardTask;
  /** Seconds without a heartbeat before the shard's activities count as lost (the config's default when absent). */
  readonly heartbeatTimeoutSeconds?: number;
}

/** One shard: generate (resumable, heartbeating) on the model queue. */
export async function generateShardWorkflow(raw: ShardInput): Promise<ShardResult> {
  const input: ShardInput = validInput(shardInputSchema, raw, 'shard input');
  if (input.index < 0 || input.index >= input.shards.count) {
    throw ApplicationFailure.nonRetryable(`shard ${input.index} is outside 0..${input.shards.count - 1}`, 'ConfigError');
  }
  const ml = proxyActivities<GenerationActivities & Bm25Activities>(modelActivityOptions(input.heartbeatTimeoutSeconds));
  const result = await ml.generateShard({
    index: input.index,
    shardKey: shardDocumentsKey(input.shards, input.index),
    outputPrefix: input.task.outputPrefix,
    shared: input.task.shared,
  });
  const filter = input.task.filter;
  if (filter) await ml.filterShardWeakQueries({ index: filter.index, topK: filter.topK, shard: result, outputPrefix: input.task.outputPrefix });
  return result;
}
