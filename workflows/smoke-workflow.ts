import { proxyActivities } from '@temporalio/workflow';
import type { SmokeActivities } from '../activities/smoke-activities.ts';
import { IO_SHORT } from './activity-profiles.ts';

export interface SmokeInput {
  readonly text: string;
}

const { writeAndReadBack } = proxyActivities<SmokeActivities>(IO_SHORT);

/** Checks the wiring end to end: Temporal schedules an activity that round-trips an object through the store. */
export async function smokeWorkflow(input: SmokeInput): Promise<{ key: string; sha256: string; bytes: number; text: string }> {
  return writeAndReadBack({ key: `smoke/${input.text.length}-${hashText(input.text)}.txt`, text: input.text });
}

// Small deterministic string hash (FNV-1a) for the key; the store computes the real sha256.
function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
