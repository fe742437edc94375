import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_NAMES } from '../common/errors.ts';
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
