// A session backend whose onnxruntime session lives in a worker thread (lib/onnx/session-worker.ts), so the
// calling thread's event loop keeps running while a long run() executes. Tensors cross the thread boundary as
// typed arrays in transfer lists: results come back without a copy; inputs are copied once into compact buffers
// unless the caller hands them over.
import { Worker } from 'node:worker_threads';
import type { HostTensor, RunOptions, SessionBackend, SessionOptions } from './session-types.ts';

/** workerData of a session worker: what to load and how (never with `worker` set). */
export interface WorkerStart {
  readonly model: Uint8Array | string;
  readonly options: SessionOptions;
}

interface ErrorReport {
  readonly name: string;
  readonly message: string;
}

export type WorkerRequest =
  | { readonly kind: 'run'; readonly id: number; readonly feeds: Record<string, HostTensor>; readonly fetches: readonly string[] }
  | { readonly kind: 'release'; readonly id: number };

export type WorkerReply =
  | { readonly kind: 'ready'; readonly id: typeof LOAD_ID; readonly inputNames: readonly string[]; readonly outputNames: readonly string[] }
  | { readonly kind: 'result'; readonly id: number; readonly outputs: Record<string, HostTensor> }
  | { readonly kind: 'released'; readonly id: number }
  | { readonly kind: 'failed'; readonly id: number; readonly error: ErrorReport };

/** Id of the load request (the worker answers it with 'ready' or 'failed'). */
export const LOAD_ID = 0;

/**
 * Packs tensors for postMessage: each gets a buffer of its own (a view into a larger or shared buffer is copied,
 * as is every tensor not handed over: all when `handOver` is true, else those it names), and the returned list
 * names each buffer once for the transfer list.
 */
export function packTensors(tensors: Readonly<Record<string, HostTensor>>, handOver: boolean | readonly string[]): { tensors: Record<string, HostTensor>; transfer: ArrayBuffer[] } {
  const packed: Record<string, HostTensor> = {};
  const transfer = new Set<ArrayBuffer>();
  for (const [name, t] of Object.entries(tensors)) {
    const d = t.data;
    const owned = d.buffer instanceof ArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;
    const handed = handOver === true || (Array.isArray(handOver) && handOver.includes(name));
    const data = handed && owned ? d : (d.slice() as HostTensor['data']);
    packed[name] = { dtype: t.dtype, dims: [...t.dims], data };
    transfer.add(data.buffer as ArrayBuffer);
  }
  return { tensors: packed, transfer: [...transfer] };
}

export function reportError(e: unknown): ErrorReport {
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

/** An Error with the worker-side name and message, so callers see what an in-thread session would throw. */
function rebuildError(report: ErrorReport): Error {
  const e = new Error(report.message);
  if (report.name !== 'Error') Object.defineProperty(e, 'name', { value: report.name, enumerable: false, configurable: true, writable: true });
  return e;
}

interface Pending {
  readonly resolve: (reply: WorkerReply) => void;
  readonly reject: (e: Error) => void;
}

class WorkerBackend implements SessionBackend {
  private nextId = LOAD_ID + 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly label: string,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.settle(reply.id);
      if (reply.kind === 'failed') waiting.reject(rebuildError(reply.error));
      else waiting.resolve(reply);
    });
    worker.on('error', (e) => this.fail(new Error(`${label}: session worker crashed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => this.fail(new Error(`${label}: session worker exited (code ${code}); create a new session.`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const [id, waiting] of this.pending) {
      this.settle(id);
      waiting.reject(e);
    }
  }

  private settle(id: number): void {
    this.pending.delete(id);
    // An idle worker must not keep the process alive; a busy one must.
    if (this.pending.size === 0) this.worker.unref();
  }

  private request(message: WorkerRequest, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(message, transfer);
    });
  }

  async run(feeds: Readonly<Record<string, HostTensor>>, fetches: readonly string[], options: RunOptions): Promise<Record<string, HostTensor>> {
    const { tensors, transfer } = packTensors(feeds, options.transferInputs ?? false);
    const reply = await this.request({ kind: 'run', id: this.nextId++, feeds: tensors, fetches: [...fetches] }, transfer);
    if (reply.kind !== 'result') throw new Error(`${this.label}: session worker answered a run with '${reply.kind}'`);
    return reply.outputs;
  }

  async release(): Promise<void> {
    try {
      await this.request({ kind: 'release', id: this.nextId++ }, []);
    } finally {
      this.failure ??= new Error(`${this.label}: session worker was released`);
      await this.worker.terminate();
    }
  }
}

/**
 * Run from TypeScript source (under tsx), the worker script is a .ts file, and Node 20 does not apply tsx's loader
 * hooks inside worker threads; a two-line bootstrap loads it through tsx's tsImport instead. Compiled, it is
 * started directly.
 */
function startWorker(start: WorkerStart): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = new URL(fromSource ? './session-worker.ts' : './session-worker.js', import.meta.url);
  if (!fromSource) return new Worker(script, { workerData: start });
  // tsx is resolved here, from this file: an eval'd worker resolves bare names from the process's working
  // directory, which need not be the project (a worker started elsewhere, as on another machine).
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(script.href)}, ${JSON.stringify(import.meta.url)}));`;
  return new Worker(bootstrap, { eval: true, workerData: start });
}

/** Starts a worker thread that loads the model, and resolves once it is ready (or rejects with its load error). */
export async function createWorkerBackend(model: Uint8Array | string, options: SessionOptions & { readonly label: string }): Promise<SessionBackend> {
  const { worker: _inWorker, ...rest } = options;
  const start: WorkerStart = { model, options: rest };
  const worker = startWorker(start);
  // Only our own listeners are removed afterwards: Worker keeps internal ones of its own.
  let onMessage: (reply: WorkerReply) => void = () => undefined;
  let onError: (e: Error) => void = () => undefined;
  let onExit: (code: number) => void = () => undefined;
  const ready = await new Promise<WorkerReply>((resolve, reject) => {
    onMessage = resolve;
    onError = (e) => reject(new Error(`${options.label}: session worker failed to start: ${e.message}`, { cause: e }));
    onExit = (code) => reject(new Error(`${options.label}: session worker exited (code ${code}) before loading the model.`));
    worker.once('message', onMessage).once('error', onError).once('exit', onExit);
  }).finally(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
  if (ready.kind !== 'ready') {
    await worker.terminate();
    throw ready.kind === 'failed' ? rebuildError(ready.error) : new Error(`${options.label}: session worker sent '${ready.kind}' before 'ready'`);
  }
  worker.unref();
  return new WorkerBackend(worker, options.label, ready.inputNames, ready.outputNames);
}
