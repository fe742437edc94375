// An orchestrator-queue worker process for fault tests (workflows and I/O activities), so a test can SIGKILL it
// mid-run and start another; it prints a line once it polls.
import { loadSettings } from '../../workers/settings.ts';
import { connectWorker } from '../../workers/temporal-connection.ts';
import { createOrchestratorWorker } from '../../workers/worker.ts';

const settings = loadSettings();
const connection = await connectWorker(settings);
const worker = await createOrchestratorWorker(connection, settings);
process.once('SIGTERM', () => worker.shutdown());
console.log('orchestrator worker ready');
await worker.run();
await connection.close();
