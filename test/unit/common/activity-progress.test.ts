// The progress record long activities heartbeat: its schema and the rate and ETA the activity adds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRAINING_PROGRESS } from '../../support/progress-records.ts';
import { activityProgressSchema, parseActivityProgress, progressTracker, type ProgressUpdate } from '../../../common/activity-progress.ts';

const update = (done: number, extra: Partial<ProgressUpdate> = {}): ProgressUpdate => ({ stage: 'tune-prompt', task: 'training', unit: 'items', done, total: 90, epoch: 1, epochs: 1, ...extra });

describe('activity progress records', () => {
  it('accepts the records the stages send and rejects other heartbeat details', () => {
    const record = { ...TRAINING_PROGRESS };
    assert.deepEqual(activityProgressSchema.parse(record), record);
    assert.deepEqual(parseActivityProgress(record), record);
    // What activities heartbeat that is not a progress record (older code, the generation shards, merging).
    assert.equal(parseActivityProgress({ done: 3, total: 32 }), undefined);
    assert.equal(parseActivityProgress({ step: 'loading the LLM' }), undefined);
    assert.equal(parseActivityProgress(undefined), undefined);
    assert.equal(parseActivityProgress({ ...record, stage: 'tuning' }), undefined);
    assert.equal(parseActivityProgress({ ...record, done: -1 }), undefined);
    assert.equal(parseActivityProgress({ ...record, extra: 1 }), undefined);
  });

  it('measures the rate from the first update that moved, so setup and resumed work are not speed', () => {
    let t = 0;
    const track = progressTracker(() => t);
    // Loading the model: 30 s at done 40 (resumed from a checkpoint).
    assert.deepEqual(track(update(40, { task: 'loading the LLM' })), { ...update(40, { task: 'loading the LLM' }), perSecond: null, etaSeconds: null });
    t = 30_000;
    assert.deepEqual(track(update(40)), { ...update(40), perSecond: null, etaSeconds: null });
    t = 32_000;
    // The first step: the measurement starts here.
    assert.deepEqual(track(update(41)), { ...update(41), perSecond: null, etaSeconds: null });
    t = 42_000;
    // 4 items in 10 s: 0.4 items/s, 45 items left.
    assert.deepEqual(track(update(45)), { ...update(45), perSecond: 0.4, etaSeconds: 113 });
    t = 52_000;
    // The same done (a dev search, an S_eval pass not counted yet): the rate falls, the ETA grows.
    assert.deepEqual(track(update(45, { task: 'S_eval loss' })), { ...update(45, { task: 'S_eval loss' }), perSecond: 0.2, etaSeconds: 225 });
    t = 62_000;
    assert.deepEqual(track(update(90)), { ...update(90), perSecond: 1.63, etaSeconds: 0 });
  });

  it('starts again for another subject or unit, and when done goes back', () => {
    let t = 0;
    const track = progressTracker(() => t);
    const evalUpdate = (done: number, subject: string): ProgressUpdate => ({ stage: 'evaluate', subject, task: 'encoding the corpus', unit: 'texts', done, total: 116 });
    track(evalUpdate(16, 'zero-shot'));
    t = 8_000;
    assert.equal(track(evalUpdate(48, 'zero-shot')).perSecond, null);
    t = 16_000;
    assert.equal(track(evalUpdate(80, 'zero-shot')).perSecond, 4);
    t = 17_000;
    assert.equal(track(evalUpdate(16, 'sptar')).perSecond, null);
    t = 18_000;
    assert.equal(track(evalUpdate(32, 'sptar')).perSecond, null);
    t = 22_000;
    assert.deepEqual(track(evalUpdate(52, 'sptar')), { ...evalUpdate(52, 'sptar'), perSecond: 5, etaSeconds: 13 });
    t = 23_000;
    assert.equal(track(evalUpdate(0, 'sptar')).perSecond, null);
  });
});
