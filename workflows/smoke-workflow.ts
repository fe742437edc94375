import { proxyActivities } from '@temporalio/workflow';
import type { SmokeActivities } from '../activities/smoke-activities.ts';
import { fnv1a } from '../common/fnv1a.ts';
import { IO_SHORT } from './activity-profiles.ts';

export interface SmokeInput {
  readonly text: string;
}

const { writeAndReadBack } = proxyActivities<SmokeActivities>(IO_SHORT);

/** Checks the wiring end to end: Temporal schedules an activity that round-trips an object through the store. */
export async function smokeWorkflow(input: SmokeInput): Promise<{ key: string; sha256: string; bytes: number; text: string }> {
  return writeAndReadBack({ key: `smoke/${input.text.length}-${fnv1a(input.text)}.txt`, text: input.text });
}
