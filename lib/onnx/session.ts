// The only module that talks to onnxruntime. Sessions are created from model bytes or a file, inputs are
// checked by name before a run, and every tensor handed to or received from onnxruntime is disposed here.
//
// onnxruntime-node executes run() synchronously on the JS thread (its backend defers the call with setImmediate
// and then blocks until the native run returns), so the event loop, and with it Temporal heartbeats, stalls for
// the whole run. Either callers keep each run short (bounded batch and sequence sizes, heartbeating between
// calls), or the session lives in a worker thread (`worker: true`, lib/onnx/session-worker.ts) and the calling
// thread only waits. bench/engine.ts measures how long the real models block the thread either way.
import ort from 'onnxruntime-node';
import type { DType } from './graph-builder.ts';
import type { HostTensor, RunOptions, SessionBackend, SessionOptions } from './session-types.ts';
import { createWorkerBackend } from './worker-backend.ts';

export type { HostTensor } from './session-types.ts';

export class SessionInputError extends Error {
  override readonly name = 'SessionInputError';
}

export function hostTensor(dtype: DType, dims: readonly number[], data: HostTensor['data']): HostTensor {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new SessionInputError(`Tensor of dims [${dims.join(', ')}] needs ${count} values, got ${data.length}.`);
  return { dtype, dims, data };
}

/** Runs an onnxruntime session on the calling thread. */
class LocalBackend implements SessionBackend {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly label: string,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Readonly<Record<string, HostTensor>>, fetches: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    let results: ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype, t.data, [...t.dims]);
      results = await this.session.run(ortFeeds, [...fetches]);
      const out: Record<string, HostTensor> = {};
      for (const name of fetches) {
        const t = results[name];
        if (!t) throw new Error(`${this.label}: onnxruntime returned no output "${name}".`);
        out[name] = { dtype: t.type as DType, dims: [...t.dims], data: t.data as HostTensor['data'] };
      }
      return out;
    } catch (e) {
      throw new Error(`${this.label}: run failed: ${(e as Error).message}`, { cause: e });
    } finally {
      for (const t of Object.values(ortFeeds)) t.dispose();
      if (results) for (const t of Object.values(results)) t.dispose();
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

async function createLocalBackend(model: Uint8Array | string, options: SessionOptions, label: string): Promise<LocalBackend> {
  const ortOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpThreads ?? 2,
    interOpNumThreads: options.interOpThreads ?? 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.optimization ?? 'all',
    // Warnings (e.g. unused constants) are noise here; errors still surface as exceptions.
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
  };
  try {
    const session = typeof model === 'string' ? await ort.InferenceSession.create(model, ortOptions) : await ort.InferenceSession.create(model, ortOptions);
    return new LocalBackend(session, label);
  } catch (e) {
    throw new Error(`onnxruntime could not load ${label}: ${(e as Error).message}`, { cause: e });
  }
}

export class ModelSession {
  private released = false;

  private constructor(
    private readonly backend: SessionBackend,
    readonly label: string,
  ) {}

  /** Create a session from serialised model bytes or from a path to an .onnx file. */
  static async create(model: Uint8Array | string, options: SessionOptions = {}): Promise<ModelSession> {
    const label = options.label ?? (typeof model === 'string' ? model : 'in-memory model');
    const backend = options.worker ? await createWorkerBackend(model, { ...options, label }) : await createLocalBackend(model, options, label);
    return new ModelSession(backend, label);
  }

  get inputNames(): readonly string[] {
    return this.backend.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.backend.outputNames;
  }

  /** Run once. Every declared input must be fed; `outputs` selects a subset of outputs (default all). */
  async run(feeds: Readonly<Record<string, HostTensor>>, outputs?: readonly string[], options: RunOptions = {}): Promise<Record<string, HostTensor>> {
    if (this.released) throw new Error(`Session ${this.label} was released; create a new one.`);
    const expected = this.backend.inputNames;
    const given = Object.keys(feeds);
    const missing = expected.filter((n) => !(n in feeds));
    const unknown = given.filter((n) => !expected.includes(n));
    if (missing.length > 0 || unknown.length > 0) {
      const parts = [
        missing.length > 0 ? `missing input(s) ${missing.map((n) => `"${n}"`).join(', ')}` : '',
        unknown.length > 0 ? `unknown input(s) ${unknown.map((n) => `"${n}"`).join(', ')}` : '',
      ].filter(Boolean);
      throw new SessionInputError(`${this.label}: ${parts.join('; ')}. The model expects exactly: ${expected.map((n) => `"${n}"`).join(', ')}.`);
    }
    const fetches = outputs ?? this.backend.outputNames;
    for (const name of fetches) {
      if (!this.backend.outputNames.includes(name)) {
        throw new SessionInputError(`${this.label}: unknown output "${name}". Outputs: ${this.backend.outputNames.map((n) => `"${n}"`).join(', ')}.`);
      }
    }
    return this.backend.run(feeds, fetches, options);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.backend.release();
  }
}
