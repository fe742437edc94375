// Starts the smoke workflow and prints its result. Needs a running worker (`npm run worker`).
import { Client } from '@temporalio/client';
import { TASK_QUEUES } from '../common/task-queues.ts';
import { loadSettings } from './settings.ts';
import { connectClient } from './temporal-connection.ts';

const settings = loadSettings();
const connection = await connectClient(settings);
const client = new Client({ connection, namespace: settings.namespace });
const text = `sptar smoke ${new Date().toISOString()}`;
const handle = await client.workflow.start('smokeWorkflow', {
  taskQueue: TASK_QUEUES.orchestrator,
  workflowId: `smoke-${Date.now()}`,
  args: [{ text }],
});
console.log(`started ${handle.workflowId}; watch it at ${settings.uiUrl}/namespaces/${settings.namespace}/workflows/${handle.workflowId}`);
const result = await handle.result();
if (result.text !== text) throw new Error(`round trip changed the text: ${JSON.stringify(result)}`);
console.log(`stored ${result.key} (${result.bytes} bytes, sha256 ${result.sha256}) and read it back unchanged`);
await connection.close();
