// Heartbeats on a clock. Temporal counts an activity as lost when no heartbeat arrives within its heartbeat timeout,
// whatever the activity is doing: a long store transfer, a slow shard, a pass over a large corpus. The clock re-sends
// the latest details whenever nothing was sent for half its interval, so a heartbeat leaves at least once per
// interval while the event loop runs; loops that compute on the JS thread call `breathe` so that it does.

/** The timers a clock runs on: the real ones by default, a fake in tests. */
export interface ClockTimers {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Resolves after pending I/O and timers have had their turn (setImmediate). */
  yieldToEventLoop(): Promise<void>;
}

export interface HeartbeatClockOptions {
  /** Details sent when the clock starts; without them the clock sends nothing until the first `beat`. */
  readonly initial?: unknown;
  /** Longest wall time between two heartbeats while the event loop runs (default 30 s, a tenth of the 5-minute timeout). */
  readonly everyMs?: number;
  /** Shortest time between two heartbeats that `beat` sends (default 0: every beat is sent); later ones wait for the clock. */
  readonly minGapMs?: number;
  /** How long `breathe` lets a JS-thread loop run before it yields to the event loop (default 100 ms). */
  readonly breatheEveryMs?: number;
  readonly timers?: ClockTimers;
}

export interface HeartbeatClock {
  /** New details: sent at once unless the last heartbeat is younger than `minGapMs` (then the clock sends them). */
  beat(details: unknown): void;
  /** In a loop on the JS thread: yields to the event loop when it has run `breatheEveryMs` since the last yield. */
  breathe(): Promise<void>;
  stop(): void;
}

export const realTimers: ClockTimers = {
  now: () => Date.now(),
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    // A clock that was never stopped must not keep the process alive.
    handle.unref();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
  yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
};

/** Starts a clock that heartbeats through `send`. */
export function startHeartbeatClock(send: (details: unknown) => void, options: HeartbeatClockOptions = {}): HeartbeatClock {
  const timers = options.timers ?? realTimers;
  const everyMs = options.everyMs ?? 30_000;
  const minGapMs = options.minGapMs ?? 0;
  const breatheEveryMs = options.breatheEveryMs ?? 100;
  if (!(everyMs > 0)) throw new RangeError(`heartbeat interval must be positive, got ${everyMs}`);
  let latest = options.initial;
  let started = options.initial !== undefined;
  let lastSent = Number.NEGATIVE_INFINITY;
  let unsent = false;
  let lastYield = timers.now();
  let stopped = false;
  const sendLatest = () => {
    lastSent = timers.now();
    unsent = false;
    send(latest);
  };
  if (started) sendLatest();
  // Ticks at half the interval, each sending when the last heartbeat is at least that old: gaps stay within `everyMs`.
  const half = everyMs / 2;
  const handle = timers.setInterval(() => {
    if (stopped || !started || (!unsent && timers.now() - lastSent < half)) return;
    try {
      sendLatest();
    } catch {
      // A heartbeat that cannot be sent from the clock is not the work's failure; the work's next beat reports it.
    }
  }, half);
  return {
    beat(details) {
      latest = details;
      started = true;
      if (timers.now() - lastSent >= minGapMs) sendLatest();
      else unsent = true;
    },
    async breathe() {
      const now = timers.now();
      if (now - lastYield < breatheEveryMs) return;
      await timers.yieldToEventLoop();
      lastYield = timers.now();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      timers.clearInterval(handle);
    },
  };
}

/** Runs `work` with a heartbeat clock that stops when the work ends, however it ends. */
export async function withHeartbeatClock<T>(send: (details: unknown) => void, options: HeartbeatClockOptions, work: (clock: HeartbeatClock) => Promise<T>): Promise<T> {
  const clock = startHeartbeatClock(send, options);
  try {
    return await work(clock);
  } finally {
    clock.stop();
  }
}

/**
 * `items` as they come, with a beat of `details(done)` after each (throttle them with `minGapMs`) and a breath, so a
 * pass over them on the JS thread keeps heartbeating.
 */
export async function* pacedItems<T>(items: Iterable<T> | AsyncIterable<T>, clock: HeartbeatClock, details: (done: number) => unknown): AsyncGenerator<T> {
  let done = 0;
  for await (const item of items) {
    yield item;
    done++;
    clock.beat(details(done));
    await clock.breathe();
  }
}
