// Against the real Temporal dev server and the real object store: fails when either is absent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as S3Client } from 'minio';
import { Client } from '@temporalio/client';
import { sha256Hex } from '../../lib/artifact-store/index.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import { connectClient } from '../../workers/temporal-connection.ts';
import { createOrchestratorWorker } from '../../workers/worker.ts';
import { startWorkers, type LiveWorkers } from '../support/live-workers.ts';
import { services, serviceSettings, uiUrl } from '../support/services.ts';

const settings = serviceSettings();

async function readObjectDirectly(key: string): Promise<string> {
  if (settings.store.kind !== 's3') throw new Error('integration tests need SPTAR_STORE=s3');
  const url = new URL(settings.store.endpoint);
  const s3 = new S3Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: settings.store.accessKey,
    secretKey: settings.store.secretKey,
    pathStyle: true,
  });
  const chunks: Buffer[] = [];
  for await (const c of await s3.getObject(settings.store.bucket, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('smoke workflow on the real dev server and object store', () => {
  let live: LiveWorkers;

  before(async () => {
    live = await startWorkers(async (nc) => [await createOrchestratorWorker(nc, settings)]);
  });
  after(() => live.stop());

  it('writes an object through an activity, reads it back, and the object is really in the store', async () => {
    const client = live.client;
    const text = `smoke round trip ${process.pid} ${Date.now()}`;
    const result = await client.workflow.execute('smokeWorkflow', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId: `test-smoke-${Date.now()}`,
      args: [{ text }],
    });
    assert.equal(result.text, text);
    assert.equal(result.bytes, Buffer.byteLength(text));
    assert.equal(result.sha256, sha256Hex(new TextEncoder().encode(text)));
    assert.equal(await readObjectDirectly(result.key), text);
  });

  it('keeps a finished workflow visible in the Web UI after the dev server restarts (SQLite state)', async () => {
    const client = live.client;
    const workflowId = `test-persist-${Date.now()}`;
    await client.workflow.execute('smokeWorkflow', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId,
      args: [{ text: 'persist me' }],
    });
    services('restart', 'temporal');
    const fresh = await connectClient(settings);
    try {
      const after = await new Client({ connection: fresh, namespace: settings.namespace }).workflow.getHandle(workflowId).describe();
      assert.equal(after.status.name, 'COMPLETED');
    } finally {
      await fresh.close();
    }
    // The UI's own HTTP API (what the browser page calls) lists the workflow as completed.
    const res = await fetch(`${uiUrl()}/api/v1/namespaces/${settings.namespace}/workflows/${workflowId}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { workflowExecutionInfo: { status: string } };
    assert.equal(body.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_COMPLETED');
  });
});
