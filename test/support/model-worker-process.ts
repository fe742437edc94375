// A model-queue worker process for fault tests. Its query generator is a slow deterministic stand-in for the LLM
// (the orchestration is under test, not the model): it appends every document id it is asked about to the file
// in SPTAR_TEST_CALLS_LOG, so a test can count model calls across worker crashes.
import { appendFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { createArtifactStore } from '../../activities/artifact-store/index.ts';
import { createGenerationActivities } from '../../activities/generation-activities.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import { loadSettings } from '../../workers/settings.ts';
import { connectWorker } from '../../workers/temporal-connection.ts';

const callsLog = process.env['SPTAR_TEST_CALLS_LOG'];
const msPerDoc = Number(process.env['SPTAR_TEST_MS_PER_DOC'] ?? '100');
if (!callsLog) throw new Error('set SPTAR_TEST_CALLS_LOG');

const settings = loadSettings();
const connection = await connectWorker(settings);
const worker = await Worker.create({
  connection,
  namespace: settings.namespace,
  taskQueue: TASK_QUEUES.model,
  maxConcurrentActivityTaskExecutions: 1, // one model job per process, as the real model worker runs
  activities: createGenerationActivities({
    store: createArtifactStore(settings.store),
    generatorFor: async () => ({
      batchSize: 2,
      async generate(docs) {
        appendFileSync(callsLog, docs.map((d) => `${d._id}\n`).join(''));
        await new Promise((r) => setTimeout(r, msPerDoc * docs.length));
        return docs.map((d) => ({ query: `query for ${d._id}` }));
      },
    }),
  }),
});
process.once('SIGTERM', () => worker.shutdown());
console.log('model worker ready');
await worker.run();
await connection.close();
