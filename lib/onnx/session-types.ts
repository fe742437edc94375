// The plain types shared by the session (session.ts) and its worker-thread backend (worker-backend.ts), kept
// apart so that neither module imports the other's types back.
import type { DType } from './graph-builder.ts';

export interface HostTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Float64Array | BigInt64Array | Uint8Array;
}

export interface SessionOptions {
  /** Threads inside one op (MatMul); default 2 = the cores of this machine. */
  readonly intraOpThreads?: number;
  /** Threads running independent ops concurrently; 1 keeps the thread count predictable. */
  readonly interOpThreads?: number;
  /**
   * Graph optimisation level, default 'all'. float64 graphs need 'basic': the extended fusions rewrite patterns
   * such as x * sigmoid(x) into contrib kernels that onnxruntime implements for float32 only.
   */
  readonly optimization?: 'basic' | 'extended' | 'all';
  /**
   * Let idle intra-op threads spin while waiting for work (onnxruntime's default), default false. On a machine
   * whose cores are shared with other processes, spinning threads take CPU time from the thread doing the work:
   * measured here (2 cores, other jobs running) a SmolLM2 decoding step took 402 ms with spinning and 260 ms without.
   */
  readonly spinning?: boolean;
  /** Label used in error messages (e.g. the model and graph kind). */
  readonly label?: string;
  /**
   * Run onnxruntime in a worker thread so the event loop (timers, Temporal heartbeats) keeps running during
   * run(). Inputs are copied once into the worker unless run() is told to hand them over; outputs come back
   * without a copy (their buffers are transferred).
   */
  readonly worker?: boolean;
}

export interface RunOptions {
  /**
   * Hand the input buffers over to the worker instead of copying them (worker sessions only): all inputs, or those
   * named. The caller's arrays are detached (length 0) afterwards. Views into a larger buffer are still copied.
   */
  readonly transferInputs?: boolean | readonly string[];
}

/** Where the onnxruntime session lives: this thread, or a worker thread behind messages. */
export interface SessionBackend {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Inputs are already checked; errors carry the final message. */
  run(feeds: Readonly<Record<string, HostTensor>>, fetches: readonly string[], options: RunOptions): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}
