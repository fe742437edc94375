// Worker process. `tsx workers/worker.ts [--queue orchestrator|model|all]` (default all).
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { activityCostInterceptors } from '../activities/activity-costs.ts';
import { createArtifactStore, type ArtifactStore } from '../lib/artifact-store/index.ts';
import { createGenerationActivities, type GenerationDeps } from '../activities/generation-activities.ts';
import { createModelActivities, createOrchestratorActivities } from '../activities/index.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';
import { loadSettings, type Settings } from './settings.ts';
import { connectWorker } from './temporal-connection.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function createOrchestratorWorker(connection: NativeConnection, settings: Settings): Promise<Worker> {
  const store = createArtifactStore(settings.store);
  return Worker.create({
    ...queueOptions(connection, settings, TASK_QUEUES.orchestrator),
    ...costRecords(store),
    workflowsPath,
    activities: createOrchestratorActivities({ store, dataRoots: settings.dataRoots }),
  });
}

/** Model work: one activity at a time per process, since each onnxruntime session already uses every core. */
export async function createModelWorker(connection: NativeConnection, settings: Settings): Promise<Worker> {
  const store = createArtifactStore(settings.store);
  return Worker.create({
    ...queueOptions(connection, settings, TASK_QUEUES.model),
    ...costRecords(store),
    maxConcurrentActivityTaskExecutions: 1,
    // The CLI and the UI show each activity's last heartbeat the server has: send one every few seconds, not the
    // SDK's default of once a minute (a heartbeat is one small RPC).
    maxHeartbeatThrottleInterval: '5 seconds',
    activities: createModelActivities({ store, dataRoots: settings.dataRoots }),
  });
}

/**
 * A model-queue worker that runs generation shards with the given query generator and nothing else: measures the
 * orchestration's own cost (`bench:orchestration`) with an instant stand-in for the LLM.
 */
export async function createGenerationWorker(
  connection: NativeConnection,
  settings: Settings,
  options: { generatorFor: GenerationDeps['generatorFor']; concurrency: number },
): Promise<Worker> {
  return Worker.create({
    ...queueOptions(connection, settings, TASK_QUEUES.model),
    maxConcurrentActivityTaskExecutions: options.concurrency,
    activities: createGenerationActivities({ store: createArtifactStore(settings.store), generatorFor: options.generatorFor }),
  });
}

const queueOptions = (connection: NativeConnection, settings: Settings, taskQueue: string) => ({ connection, namespace: settings.namespace, taskQueue });

/** Wall and CPU seconds of every activity attempt, summed per stage in the run report. */
const costRecords = (store: ArtifactStore) => ({ interceptors: { activity: [activityCostInterceptors({ store })] } });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { queue: { type: 'string', default: 'all' } } });
  if (!['orchestrator', 'model', 'all'].includes(values.queue)) {
    throw new Error(`--queue must be orchestrator, model or all (got '${values.queue}')`);
  }
  const settings = loadSettings();
  const connection = await connectWorker(settings);
  const workers: Worker[] = [];
  if (values.queue !== 'model') workers.push(await createOrchestratorWorker(connection, settings));
  if (values.queue !== 'orchestrator') workers.push(await createModelWorker(connection, settings));
  const stop = (): void => workers.forEach((w) => w.shutdown());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.log(`worker ready: queue=${values.queue} temporal=${settings.temporalAddress} store=${settings.store.kind} data roots=${settings.dataRoots.join(delimiter)}`);
  await Promise.all(workers.map((w) => w.run()));
  await connection.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
