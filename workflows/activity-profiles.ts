import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_NAMES } from '../common/errors.ts';
import { DEFAULT_MODEL_HEARTBEAT_SECONDS } from '../common/pipeline-config.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';

// Activity options as named profiles. Every retry policy is finite; bad input is never retried. Retries of
// transient failures (an unreachable object store or model worker) back off to 5-10 minutes and go on for about an
// hour, longer than the outages object stores allow for in a month (99.9%: about 43 minutes); `retryToleranceSeconds`
// states each profile's span and a unit test holds it to that.
const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_NAMES];

/** Short I/O on the orchestrator queue: reading/writing a few artifacts. */
export const IO_SHORT: ActivityOptions = {
  taskQueue: TASK_QUEUES.orchestrator,
  startToCloseTimeout: '2 minutes', // a few object-store round trips; anything longer is a hang
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes', // a long outage is probed every 5 minutes, not hammered
    maximumAttempts: 20, // ~58 minutes of outage tolerance, then the failure surfaces
    nonRetryableErrorTypes,
  },
};

/** Long I/O on the orchestrator queue: reading a whole dataset into the store. */
export const IO_LONG: ActivityOptions = {
  ...IO_SHORT,
  startToCloseTimeout: '4 hours', // a corpus of millions of documents is read and sharded in one pass
  heartbeatTimeout: '2 minutes', // heartbeats come every 100k documents and between steps
};

/** Model work (onnxruntime) on the model queue: long, heartbeating, resumable from durable checkpoints. */
export const ML_LONG: ActivityOptions = {
  taskQueue: TASK_QUEUES.model,
  startToCloseTimeout: '6 hours', // one shard or one training run; progress is checkpointed, so a retry resumes
  heartbeatTimeout: '5 minutes', // covers the longest blocking step (building and loading a 135M-parameter graph on 2 cores); a dead worker is noticed within it
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 13, // ~61 minutes of retries; a shard that still fails waits for an operator (generation.onShardFailure)
    nonRetryableErrorTypes,
  },
};

/**
 * ML_LONG with the configured heartbeat timeout (`generation.heartbeatTimeoutSeconds`): the one setting that says
 * how long a silent model activity may run before it counts as lost, for every model activity of a run.
 */
export function modelActivityOptions(heartbeatTimeoutSeconds: number = DEFAULT_MODEL_HEARTBEAT_SECONDS): ActivityOptions {
  return { ...ML_LONG, heartbeatTimeout: heartbeatTimeoutSeconds * 1000 };
}

/**
 * Seconds between a profile's first failed attempt and its last retry: the longest outage of a dependency that the
 * activity rides out (attempt durations come on top).
 */
export function retryToleranceSeconds(options: ActivityOptions): number {
  const r = options.retry ?? {};
  const seconds = (d: unknown): number => {
    if (typeof d === 'number') return d / 1000;
    const m = /^(\d+(?:\.\d+)?)\s*(second|minute|hour)s?$/.exec(String(d));
    if (!m) throw new Error(`retryToleranceSeconds: unsupported duration '${String(d)}'`);
    return Number(m[1]) * { second: 1, minute: 60, hour: 3600 }[m[2] as 'second' | 'minute' | 'hour'];
  };
  let interval = seconds(r.initialInterval ?? '1 second');
  const cap = seconds(r.maximumInterval ?? 100 * interval);
  let total = 0;
  for (let attempt = 1; attempt < (r.maximumAttempts ?? Infinity); attempt++) {
    total += Math.min(interval, cap);
    interval *= r.backoffCoefficient ?? 2;
  }
  return total;
}
