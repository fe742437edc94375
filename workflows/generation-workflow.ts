import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { Bm25Activities } from '../activities/bm25-activities.ts';
import type { GenerationActivities } from '../activities/generation-activities.ts';
import { shardDocumentsKey } from '../common/artifact-keys.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import type { GenerationProgress, GenerationSettings, ShardResult, ShardSet } from '../common/generation-types.ts';
import { modelActivityOptions } from './activity-profiles.ts';

export const generationProgressQuery = defineQuery<GenerationProgress>('generationProgress');
/** Puts failed shards back in the queue; returns how many were re-queued. */
export const retryFailedShardsUpdate = defineUpdate<number, [number[]?]>('retryFailedShards');
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

/**
 * Generates weak queries for every shard with a sliding window of child workflows (one per shard, stable ids
 * `${parentId}/shard-${i}`), and continues as new before the history grows large. Failed shards are recorded and
 * can be retried by an update without touching finished ones.
 */
export async function generateWeakQueriesWorkflow(input: GenerationInput): Promise<GenerationResult> {
  const info = workflowInfo();
  const c = input.carried;
  let next = c?.next ?? 0;
  const retryQueue: number[] = [...(c?.retryQueue ?? [])];
  const failed = new Set<number>(c?.failed ?? []);
  const totals: Totals = { ...(c?.totals ?? { shardsDone: 0, documentsDone: 0, generated: 0, failedDocuments: 0, activeMs: 0 }) };
  let paused = c?.paused ?? false;
  let accepted = false;
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
      documentsPerSecond: rate,
      etaSeconds: rate > 0 ? remaining / rate : null,
    };
  });
  setHandler(retryFailedShardsUpdate, (indices?: number[]) => {
    const chosen = (indices ?? [...failed]).filter((i) => failed.has(i));
    for (const i of chosen) {
      failed.delete(i);
      retryQueue.push(i);
    }
    accepted = false;
    return chosen.length;
  });
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
      // Wait for an operator: retryFailedShards re-queues them. Re-check daily so the history stays small.
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

export interface ShardInput {
  readonly shards: ShardSet;
  readonly index: number;
  readonly task: ShardTask;
  /** Seconds without a heartbeat before the shard's activities count as lost (the config's default when absent). */
  readonly heartbeatTimeoutSeconds?: number;
}

/** One shard: generate (resumable, heartbeating) on the model queue. */
export async function generateShardWorkflow(input: ShardInput): Promise<ShardResult> {
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
