// Progress heartbeats of one activity attempt, also sent on a clock (activities/heartbeat-clock.ts): a store
// transfer, a checkpoint write or a long ONNX run between two progress records keeps the attempt alive.
import { Context } from '@temporalio/activity';
import { progressTracker, type ProgressBeat } from '../common/activity-progress.ts';
import { startHeartbeatClock } from './heartbeat-clock.ts';

export type ClockedProgressBeat = ProgressBeat & { readonly stop: () => void };

/**
 * Heartbeats the progress records of this attempt (rate and ETA measured in it), for one subject when given, and
 * honours cancellation (which reaches an activity only through heartbeats). The latest record is re-sent on a clock
 * until `stop`.
 */
export function progressHeartbeat(subject?: string): ClockedProgressBeat {
  const ctx = Context.current();
  const track = progressTracker();
  const clock = startHeartbeatClock((details) => ctx.heartbeat(details));
  const beat: ProgressBeat = (update) => {
    clock.beat(track(subject === undefined ? update : { subject, ...update }));
    ctx.cancellationSignal.throwIfAborted();
  };
  return Object.assign(beat, { stop: () => clock.stop() });
}

/** Runs `work` with a clocked progress heartbeat that stops when the work ends, however it ends. */
export async function withProgressHeartbeat<T>(subject: string | undefined, work: (beat: ProgressBeat) => Promise<T>): Promise<T> {
  const beat = progressHeartbeat(subject);
  try {
    return await work(beat);
  } finally {
    beat.stop();
  }
}
