// A model-queue worker process for fault tests. It runs the real weak query writer on a seeded tiny LLaMA
// (test/support/tiny-generation.ts), paced to SPTAR_TEST_MS_PER_DOC per document so a test can act mid-shard, and
// appends every document id it is asked about to the file in SPTAR_TEST_CALLS_LOG, so a test can count model calls
// across worker crashes.
import { appendFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { createGenerationActivities } from '../../activities/generation-activities.ts';
import { createLlmActivities } from '../../activities/llm-activities.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import { loadSettings } from '../../workers/settings.ts';
import { connectWorker } from '../../workers/temporal-connection.ts';
import { TINY_GENERATION_SHARED } from './tiny-generation.ts';

const callsLog = process.env['SPTAR_TEST_CALLS_LOG'];
const msPerDoc = Number(process.env['SPTAR_TEST_MS_PER_DOC'] ?? '100');
if (!callsLog) throw new Error('set SPTAR_TEST_CALLS_LOG');

const settings = loadSettings();
const connection = await connectWorker(settings);
const store = createArtifactStore(settings.store);
const llm = createLlmActivities({ store, dataRoots: settings.dataRoots });
// Load the model and build its graphs before taking work: the tests' heartbeat timeout is a few seconds.
await llm.generatorFor(TINY_GENERATION_SHARED);
const worker = await Worker.create({
  connection,
  namespace: settings.namespace,
  taskQueue: TASK_QUEUES.model,
  maxConcurrentActivityTaskExecutions: 1, // one model job per process, as the real model worker runs
  activities: createGenerationActivities({
    store,
    generatorFor: async (shared) => {
      const real = await llm.generatorFor(shared);
      return {
        batchSize: real.batchSize,
        async generate(docs) {
          appendFileSync(callsLog, docs.map((d) => `${d._id}\n`).join(''));
          const started = Date.now();
          const outcomes = await real.generate(docs);
          await new Promise((r) => setTimeout(r, Math.max(0, msPerDoc * docs.length - (Date.now() - started))));
          return outcomes;
        },
      };
    },
  }),
});
process.once('SIGTERM', () => worker.shutdown());
console.log('model worker ready');
await worker.run();
await connection.close();
