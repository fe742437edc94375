import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stageOf, summariseStageCosts, type CostRecord } from '../../../lib/report/stage-costs.ts';

const rec = (activityType: string, workflowId: string, startedAt: string, extra: Partial<CostRecord> = {}): CostRecord => ({
  activityType, activityId: '1', workflowId, attempt: 1, startedAt, wallSeconds: 1, cpuSeconds: 2, ok: true, ...extra,
});
const spans = [
  { stage: 'prepare', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:10.000Z' },
  { stage: 'generate-sptar', startedAt: '2026-01-01T00:00:10.000Z', finishedAt: '2026-01-01T00:01:00.000Z' },
  { stage: 'generate-inpars', startedAt: '2026-01-01T00:01:00.000Z', finishedAt: '2026-01-01T00:01:30.000Z' },
];

describe('stage costs', () => {
  it('maps activity types to stages, generation by child workflow id or time span', () => {
    assert.equal(stageOf(rec('prepareData', 'p', spans[0]!.startedAt), spans), 'prepare');
    assert.equal(stageOf(rec('generateShard', 'p/generate-inpars/shard-2', '2026-01-01T00:00:20.000Z'), spans), 'generate-inpars');
    assert.equal(stageOf(rec('mergeKeptPairs', 'p', '2026-01-01T00:01:10.000Z'), spans), 'generate-inpars');
    assert.equal(stageOf(rec('mergeKeptPairs', 'p', '2026-01-02T00:00:00.000Z'), spans), 'generate');
    assert.equal(stageOf(rec('somethingNew', 'p', spans[0]!.startedAt), spans), 'other');
  });

  it('sums attempts per stage beside the stage span', () => {
    const rows = summariseStageCosts(
      [
        rec('prepareData', 'p', spans[0]!.startedAt, { ok: false, cpuSeconds: 0.5 }),
        rec('prepareData', 'p', spans[0]!.startedAt, { attempt: 2, wallSeconds: 3 }),
        rec('generateShard', 'p/generate-sptar/shard-0', spans[1]!.startedAt, { cpuSeconds: 4 }),
        rec('writeAndReadBack', 'smoke', spans[0]!.startedAt),
      ],
      spans,
    );
    assert.deepEqual(rows, [
      { stage: 'prepare', wallSeconds: 10, activitySeconds: 4, cpuSeconds: 2.5, attempts: 2, failedAttempts: 1 },
      { stage: 'generate-sptar', wallSeconds: 50, activitySeconds: 1, cpuSeconds: 4, attempts: 1, failedAttempts: 0 },
      { stage: 'generate-inpars', wallSeconds: 30, activitySeconds: 0, cpuSeconds: 0, attempts: 0, failedAttempts: 0 },
      { stage: 'other', wallSeconds: null, activitySeconds: 1, cpuSeconds: 2, attempts: 1, failedAttempts: 0 },
    ]);
  });
});
