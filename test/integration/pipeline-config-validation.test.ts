// An invalid config reaches the workflow as raw UI input: it must fail at once, non-retryable, readable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import { createOrchestratorWorker } from '../../workers/worker.ts';
import { startWorkers, type LiveWorkers } from '../support/live-workers.ts';
import { serviceSettings } from '../support/services.ts';

const settings = serviceSettings();

describe('pipeline workflow config validation (real dev server)', () => {
  let live: LiveWorkers;

  before(async () => {
    live = await startWorkers(async (nc) => [await createOrchestratorWorker(nc, settings)]);
  });
  after(() => live.stop());

  it('fails fast with every problem listed and no retries', async () => {
    const client = live.client;
    const workflowId = `test-bad-config-${Date.now()}`;
    // Exactly what the UI's Start Workflow form sends: one JSON payload.
    const badInput = { splits: { trainPairs: 0 }, weakFilter: { topK: 'seventy' }, generaton: {} };
    const cause = await configFailure(client, workflowId, badInput);
    assert.equal(
      cause.message,
      [
        'invalid pipeline config:',
        'splits.trainPairs: Too small: expected number to be >0 (got 0)',
        'weakFilter.topK: Invalid input: expected number, received string (got "seventy")',
        '(root): Unrecognized key: "generaton"',
      ].join('\n'),
    );
    // No activity ran, the workflow code never failed a task (which Temporal would retry), the run failed once.
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    assert.equal(events.filter((e) => e.activityTaskScheduledEventAttributes).length, 0);
    assert.equal(events.filter((e) => e.workflowTaskFailedEventAttributes).length, 0);
    assert.equal(events.filter((e) => e.workflowExecutionFailedEventAttributes).length, 1);
  });

  it('refuses a qrels path that leaves dataset.path before any activity reads it', async () => {
    const client = live.client;
    const workflowId = `test-qrels-escape-${Date.now()}`;
    // With onBadRow 'skip', the file's lines would otherwise be stored as a rejects artifact.
    const badInput = { dataset: { trainQrels: '../../../../etc/hostname', onBadRow: 'skip' } };
    const cause = await configFailure(client, workflowId, badInput);
    assert.equal(
      cause.message,
      'invalid pipeline config:\n' +
        "dataset.trainQrels: expected a file path relative to dataset.path that stays inside it (no absolute path, no '..' above it) (got \"../../../../etc/hostname\")",
    );
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    assert.equal((history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length, 0);
  });
});

/** Runs the pipeline with a bad config and returns its failure: a non-retryable ConfigError, or the test fails. */
async function configFailure(client: Client, workflowId: string, input: unknown): Promise<ApplicationFailure> {
  const err = await client.workflow
    .execute('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId, args: [input] })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  const cause = err.cause;
  assert.ok(cause instanceof ApplicationFailure);
  assert.equal(cause.type, 'ConfigError');
  assert.equal(cause.nonRetryable, true);
  return cause;
}
