// Worker-thread entry of a ModelSession created with `worker: true` (see lib/onnx/worker-backend.ts): loads the
// model through session.ts (still the only module that imports onnxruntime) and serves run/release requests.
// Results are transferred back; errors travel as name + message.
import { parentPort, workerData } from 'node:worker_threads';
import { ModelSession } from './session.ts';
import { LOAD_ID, packTensors, reportError, type WorkerReply, type WorkerRequest, type WorkerStart } from './worker-backend.ts';

const port = parentPort;
if (!port) throw new Error('lib/onnx/session-worker.ts runs only as a worker thread; create the session with ModelSession.create(model, { worker: true }).');
const start = workerData as WorkerStart;
const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

let session: ModelSession | undefined;
try {
  session = await ModelSession.create(start.model, { ...start.options, worker: false });
  post({ kind: 'ready', id: LOAD_ID, inputNames: session.inputNames, outputNames: session.outputNames });
} catch (e) {
  post({ kind: 'failed', id: LOAD_ID, error: reportError(e) });
}

port.on('message', (request: WorkerRequest) => {
  void serve(request);
});

async function serve(request: WorkerRequest): Promise<void> {
  try {
    if (!session) throw new Error('the session worker has no loaded model');
    if (request.kind === 'release') {
      await session.release();
      post({ kind: 'released', id: request.id });
      return;
    }
    // The inputs arrived in buffers of their own and the outputs are fresh: neither is copied again.
    const outputs = await session.run(request.feeds, request.fetches, {});
    const packed = packTensors(outputs, true);
    post({ kind: 'result', id: request.id, outputs: packed.tensors }, packed.transfer);
  } catch (e) {
    post({ kind: 'failed', id: request.id, error: reportError(e) });
  }
}
