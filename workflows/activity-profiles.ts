import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_NAMES } from '../common/errors.ts';
import { DEFAULT_MODEL_HEARTBEAT_SECONDS } from '../common/pipeline-config.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';

// Activity options as named profiles. Every retry policy is finite; bad input is never retried.
const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_NAMES];

/** Short I/O on the orchestrator queue: reading/writing a few artifacts. */
export const IO_SHORT: ActivityOptions = {
  taskQueue: TASK_QUEUES.orchestrator,
  startToCloseTimeout: '2 minutes', // a few object-store round trips; anything longer is a hang
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds', // keeps retrying through a short object-store outage without hammering it
    maximumAttempts: 10, // ~4 minutes of outage tolerance, then the failure surfaces
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
    maximumInterval: '2 minutes',
    maximumAttempts: 5, // a shard that fails 5 times is recorded as failed for an operator to retry
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
