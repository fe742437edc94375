// Orchestration at scale: N synthetic documents through the sharded generation workflow on the real dev server and
// object store. The query generator is an instant stand-in, so the figures are the orchestration's own cost:
// largest single workflow history, orchestrator heap over the run, and overhead per shard.
//   npm run bench:orchestration -- --documents 1000000 --shard-size 250 --concurrency 16
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { shardDocumentsKey } from '../common/artifact-keys.ts';
import { generationSettings, type GenerationProgress } from '../common/generation-types.ts';
import { pipelineConfigSchema } from '../common/pipeline-config.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';
import { createArtifactStore } from '../lib/artifact-store/index.ts';
import type { GenerationInput, GenerationResult } from '../workflows/generation-workflow.ts';
import { loadSettings } from '../workers/settings.ts';
import { connectClient, connectWorker } from '../workers/temporal-connection.ts';
import { createGenerationWorker, createOrchestratorWorker } from '../workers/worker.ts';

const { values } = parseArgs({
  options: {
    documents: { type: 'string', default: '1000000' },
    'shard-size': { type: 'string', default: '250' },
    concurrency: { type: 'string', default: '16' },
  },
});
const documents = Number(values.documents);
const shardSize = Number(values['shard-size']);
const concurrency = Number(values.concurrency);
const settings = loadSettings();
const store = createArtifactStore(settings.store);
const run = `bench-orch-${Date.now()}`;
const count = Math.ceil(documents / shardSize);
const shards = { prefix: `bench/${run}/unlabeled`, count, documents };

console.log(`writing ${count} shards of ${shardSize} synthetic documents (${documents} total)...`);
let t = Date.now();
for (let i = 0; i < count; i += 32) {
  await Promise.all(
    Array.from({ length: Math.min(32, count - i) }, (_, k) => {
      const s = i + k;
      const n = Math.min(shardSize, documents - s * shardSize);
      const rows = Array.from({ length: n }, (_, j) => `{"_id":"d${s * shardSize + j}","title":"","text":"synthetic ${s} ${j}"}\n`);
      return store.put(shardDocumentsKey(shards, s), rows.join(''));
    }),
  );
}
console.log(`  shards written in ${((Date.now() - t) / 1000).toFixed(1)} s`);

const nativeConnection = await connectWorker(settings);
const connection = await connectClient(settings);
const client = new Client({ connection, namespace: settings.namespace });
const orchestrator = await createOrchestratorWorker(nativeConnection, settings);
const model = await createGenerationWorker(nativeConnection, settings, {
  concurrency,
  generatorFor: async () => ({ batchSize: shardSize, generate: async (docs) => docs.map((d) => ({ query: `q ${d._id}` })) }),
});
const running = Promise.all([orchestrator.run(), model.run()]);

const input: GenerationInput = {
  shards,
  // The stand-in generator ignores the settings; the default config's InPars-style ones make a valid task.
  task: { outputPrefix: `bench/${run}/generate`, shared: generationSettings(pipelineConfigSchema.parse({}), null, 'inpars') },
  maxConcurrentShards: concurrency,
  onShardFailure: 'continue',
};
t = Date.now();
const handle = await client.workflow.start('generateWeakQueriesWorkflow', { taskQueue: TASK_QUEUES.orchestrator, workflowId: run, args: [input] });
const heap: number[] = [];
const timer = setInterval(() => {
  heap.push(process.memoryUsage().heapUsed);
  handle
    .query<GenerationProgress>('generationProgress')
    .then((p) => process.stdout.write(`\r  shards ${p.shardsDone}/${p.shardsTotal}  ${p.documentsPerSecond.toFixed(0)} docs/s  heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB   `))
    .catch(() => undefined);
}, 2000);
const result = (await handle.result()) as GenerationResult;
const seconds = (Date.now() - t) / 1000;
clearInterval(timer);
console.log('');

// Largest history over the coordinator's chain of runs.
let largest = 0;
let runs = 0;
// Counted from each run's fetched history: the visibility listing's historyLength can be 0 on the dev server.
for await (const w of client.workflow.list({ query: `WorkflowId = '${run}'` })) {
  runs++;
  const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
  largest = Math.max(largest, history.events?.length ?? 0);
}
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const third = Math.max(1, Math.floor(heap.length / 3));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
console.log(`documents ${result.documentsDone}, generated ${result.generated}, failed shards ${result.shardsFailed.length}`);
console.log(`coordinator runs (continue-as-new chain): ${runs}; largest history: ${largest} events`);
console.log(`wall time ${seconds.toFixed(1)} s; orchestration per shard ${((seconds * 1000 * concurrency) / count).toFixed(0)} ms (x${concurrency} concurrent) = ${((seconds * 1000) / count).toFixed(1)} ms of wall time per shard`);
console.log(`worker heap (orchestrator + stand-in model worker): first third avg ${mib(avg(heap.slice(0, third)))} MiB, last third avg ${mib(avg(heap.slice(-third)))} MiB, max ${mib(Math.max(...heap))} MiB`);
orchestrator.shutdown();
model.shutdown();
await running;
await connection.close();
await nativeConnection.close();
