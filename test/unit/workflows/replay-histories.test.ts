// Determinism guard: histories recorded from real runs (test/fixtures/histories) must replay against the current
// workflow code. A change that would break running executions fails here; see README "Changing workflow code".
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowsPath } from '../../../workers/worker.ts';

const dir = fileURLToPath(new URL('../../fixtures/histories/', import.meta.url));
/** Written by infra/record-history.sh. */
interface Recorded {
  workflowId: string;
  history: { events: { workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[] };
}

Runtime.install({ logger: new DefaultLogger('WARN') });

describe('recorded workflow histories replay deterministically', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  it('has recorded histories for every workflow type', async () => {
    const types = new Set<string>();
    for (const f of files) {
      const { history: h } = JSON.parse(await readFile(`${dir}${f}`, 'utf8')) as Recorded;
      const name = h.events[0]?.workflowExecutionStartedEventAttributes?.workflowType.name;
      if (name) types.add(name);
    }
    assert.deepEqual([...types].sort(), ['generateShardWorkflow', 'generateWeakQueriesWorkflow', 'smokeWorkflow', 'sptarPipeline']);
  });

  it('replays every history without a nondeterminism error', async () => {
    const histories = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(`${dir}${f}`, 'utf8')) as Recorded),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(failures, []);
  });
});
