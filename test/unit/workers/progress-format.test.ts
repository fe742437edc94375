// The CLI's progress lines on fixed records: bars, done/total, rates, ETAs (also of a stage of several activities),
// and how they are printed to a terminal and to a log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivityProgress } from '../../../common/activity-progress.ts';
import type { PipelineProgress, Stage } from '../../../common/pipeline-stages.ts';
import { formatActivityProgress, formatDuration, formatEta, formatGeneration, formatPendingActivity, formatStage, progressBar, progressView, stageEtaSeconds } from '../../../workers/progress-format.ts';
import { ProgressPrinter } from '../../../workers/progress-printer.ts';
import type { PendingActivity } from '../../../workers/run-progress.ts';
import { TRAINING_PROGRESS } from '../../support/progress-records.ts';

const PLAN: Stage[] = ['prepare', 'bm25', 'tune-prompt', 'filter-examples', 'generate-sptar', 'generate-inpars', 'train-retrievers', 'evaluate', 'report'];
const run = (stage: Stage, extra: Partial<PipelineProgress> = {}): PipelineProgress => ({
  stage,
  plan: PLAN,
  stagesDone: PLAN.slice(0, PLAN.indexOf(stage)),
  startedAt: '2026-01-01T00:00:00.000Z',
  evaluations: [],
  weakData: [],
  ...extra,
});
const running = (id: string, progress: ActivityProgress, heartbeatAgeSeconds = 0): PendingActivity => ({ activityId: id, activityType: 'x', started: true, attempt: 1, runningSeconds: 60, progress, heartbeatAgeSeconds });
const waiting = (id: string): PendingActivity => ({ activityId: id, activityType: 'x', started: false, attempt: 1 });

const tuning: ActivityProgress = { stage: 'tune-prompt', task: 'training', unit: 'items', done: 31, total: 90, epoch: 1, epochs: 1, perSecond: 0.52, etaSeconds: 113 };
const group: ActivityProgress = { stage: 'filter-examples', subject: 'examples 12,40,7', task: 'S_eval loss', unit: 'items', done: 12, total: 20, perSecond: 0.8, etaSeconds: 10 };
const training = TRAINING_PROGRESS;
const evaluating: ActivityProgress = { stage: 'evaluate', subject: 'zero-shot', task: 'encoding the corpus', unit: 'texts', done: 1024, total: 5483, perSecond: 38.1, etaSeconds: 117 };

describe('progress lines', () => {
  it('bars, durations and ETAs', () => {
    assert.equal(progressBar(0, 90), '[..............................]');
    assert.equal(progressBar(31, 90), '[##########....................]');
    assert.equal(progressBar(90, 90), '[##############################]');
    assert.equal(progressBar(5, 0), '[..............................]');
    assert.equal(progressBar(3, 4, 8), '[######..]');
    assert.deepEqual([0.2, 45, 60, 61, 3599, 3600, 12_600].map(formatDuration), ['1 s', '45 s', '1 min', '2 min', '60 min', '1.0 h', '3.5 h']);
    assert.equal(formatEta(null), '?');
    assert.equal(formatEta(113), '2 min');
  });

  it('one line per activity record: stage, subject, bar, done/total, epoch, task, rate and ETA', () => {
    assert.equal(formatActivityProgress(tuning), 'tune-prompt [##########....................] 31/90 items; epoch 1/1, training; 0.52 items/s, ETA 2 min');
    assert.equal(formatActivityProgress(group), 'filter-examples examples 12,40,7 [##################............] 12/20 items; S_eval loss; 0.80 items/s, ETA 10 s');
    assert.equal(formatActivityProgress(training), 'train-retrievers sptar [#########.....................] 12/40 steps; epoch 1/1, dev search 320/500 documents; 0.21 steps/s, ETA 3 min');
    assert.equal(formatActivityProgress({ ...training, phase: 'labeled', epochs: 3, epoch: 2, task: 'training', part: undefined }), 'train-retrievers sptar [#########.....................] 12/40 steps; labeled epoch 2/3, training; 0.21 steps/s, ETA 3 min');
    assert.equal(formatActivityProgress(evaluating), 'evaluate zero-shot [######........................] 1024/5483 texts; encoding the corpus; 38.1 texts/s, ETA 2 min');
    // The initial S_eval pass (epoch 0) shows no epoch; no rate yet: no rate and ETA '?'.
    assert.equal(
      formatActivityProgress({ ...tuning, task: 'S_eval loss of the initial prompt', done: 8, epoch: 0, perSecond: null, etaSeconds: null }),
      'tune-prompt [###...........................] 8/90 items; S_eval loss of the initial prompt; ETA ?',
    );
    // A heartbeat that reached the server 100 s ago: its ETA is 100 s closer now.
    assert.equal(formatActivityProgress(evaluating, 100), 'evaluate zero-shot [######........................] 1024/5483 texts; encoding the corpus; 38.1 texts/s, ETA 17 s');
    assert.equal(formatActivityProgress(evaluating, 500), 'evaluate zero-shot [######........................] 1024/5483 texts; encoding the corpus; 38.1 texts/s, ETA 0 s');
  });

  it('an activity without a progress record says how long it has run', () => {
    assert.equal(formatPendingActivity({ activityId: '1', activityType: 'prepareData', started: true, attempt: 2, runningSeconds: 12.2 }), 'prepareData: running for 13 s, attempt 2');
    assert.equal(formatPendingActivity({ activityId: '1', activityType: 'writeReport', started: true, attempt: 1 }), 'writeReport: running');
  });

  it('generation shards', () => {
    const g = { shardsTotal: 2, shardsDone: 1, shardsRunning: [1], shardsFailed: [], documentsDone: 32, generated: 31, failedDocuments: 1, paused: false, documentsPerSecond: 1.42, etaSeconds: 23 };
    assert.equal(formatGeneration(g), '[###############...............] shards 1/2, running 1, failed 0; 31 queries, 1 failed docs; 1.42 docs/s, ETA 23 s');
    assert.equal(formatGeneration({ ...g, shardsFailed: [0], paused: true, etaSeconds: 7200 }), '[###############...............] shards 1/2, running 1, failed 1 (paused); 31 queries, 1 failed docs; 1.42 docs/s, ETA 2.0 h');
  });

  it('the stage line: position in the plan, stages done, and the activities of a stage of several', () => {
    assert.equal(formatStage(run('tune-prompt')), 'stage tune-prompt 3/9 (done: prepare, bm25)');
    assert.equal(formatStage({ ...run('bm25'), plan: undefined }), 'stage bm25 (done: prepare)');
    // One group scored, one running (12 of 20 items at 0.8/s), one waiting: 10 s + 20 / 0.8 s.
    const groups = run('filter-examples', { stageTasks: { unit: 'groups', done: 1, total: 3 } });
    assert.equal(stageEtaSeconds(groups, [running('8', group), waiting('9')]), 35);
    assert.equal(formatStage(groups, [running('8', group), waiting('9')]), 'stage filter-examples 4/9 (done: prepare, bm25, tune-prompt); groups 1/3 done, stage ETA 35 s');
    // The last one running: its own line has the ETA.
    assert.equal(formatStage({ ...groups, stageTasks: { unit: 'groups', done: 2, total: 3 } }, [running('9', group)]), 'stage filter-examples 4/9 (done: prepare, bm25, tune-prompt); groups 2/3 done');
    // Before the running one has a rate, the stage has no ETA.
    assert.equal(stageEtaSeconds(groups, [running('8', { ...group, perSecond: null, etaSeconds: null })]), null);
    const systems = run('evaluate', { stageTasks: { unit: 'systems', done: 0, total: 4 } });
    assert.equal(
      formatStage(systems, [running('20', evaluating, 2), waiting('21'), waiting('22'), waiting('23')]),
      'stage evaluate 8/9 (done: prepare, bm25, tune-prompt, filter-examples, generate-sptar, generate-inpars, train-retrievers); systems 0/4 done, stage ETA 10 min',
    );
  });

  it('the view of a run, and its milestone: the stage, finished activities, tasks and tenths of progress', () => {
    const view = progressView({ progress: run('tune-prompt'), activities: [running('5', tuning, 3)] });
    assert.deepEqual(view.lines, [
      '  stage tune-prompt 3/9 (done: prepare, bm25)',
      '    tune-prompt [##########....................] 31/90 items; epoch 1/1, training; 0.52 items/s, ETA 2 min',
    ]);
    assert.equal(view.milestone, 'tune-prompt|||5:training::3');
    assert.equal(view.section, 'tune-prompt');
    // More done within the same tenth, another rate: the same milestone.
    assert.equal(progressView({ progress: run('tune-prompt'), activities: [running('5', { ...tuning, done: 35, perSecond: 0.6 })] }).milestone, view.milestone);
    assert.equal(progressView({ progress: run('tune-prompt'), activities: [running('5', { ...tuning, done: 36 })] }).milestone, 'tune-prompt|||5:training::4');
    const gen = progressView({
      progress: run('generate-sptar', { generationWorkflowId: 'r/generate-sptar' }),
      generation: { shardsTotal: 2, shardsDone: 0, shardsRunning: [0], shardsFailed: [], documentsDone: 0, generated: 0, failedDocuments: 0, paused: false, documentsPerSecond: 0, etaSeconds: null },
      activities: [],
    });
    assert.deepEqual(gen.lines, [
      '  stage generate-sptar 5/9 (done: prepare, bm25, tune-prompt, filter-examples)',
      '    [..............................] shards 0/2, running 1, failed 0; 0 queries, 0 failed docs; 0.00 docs/s, ETA ?',
    ]);
    assert.equal(gen.milestone, 'generate-sptar||0/0/false');
  });
});

/** A stream that records what is written. */
function sink(isTTY: boolean, columns?: number) {
  const chunks: string[] = [];
  return { out: { isTTY, columns, write: (s: string) => chunks.push(s) }, chunks };
}
const view = (section: string, lines: string[], milestone: string) => ({ section, lines, milestone });

describe('ProgressPrinter', () => {
  it('in a log, appends the view only when its milestone changes', () => {
    const { out, chunks } = sink(false);
    const p = new ProgressPrinter(out);
    p.update(view('a', ['  stage a', '    x 1/10'], 'a|1'));
    p.update(view('a', ['  stage a', '    x 2/10 (same tenth)'], 'a|1'));
    p.update(view('a', ['  stage a', '    x 5/10'], 'a|5'));
    p.update(view('b', ['  stage b'], 'b'));
    assert.deepEqual(chunks, ['  stage a\n    x 1/10\n', '  stage a\n    x 5/10\n', '  stage b\n']);
  });

  it('on a terminal, redraws the stage block in place, keeps it when the stage changes, and cuts long lines', () => {
    const { out, chunks } = sink(true, 24);
    const p = new ProgressPrinter(out);
    p.update(view('a', ['  stage a', '    x 1/10'], 'a|1'));
    p.update(view('a', ['  stage a', '    x 1/10'], 'a|1'));
    p.update(view('a', ['  stage a', '    x 2/10'], 'a|1'));
    p.update(view('b', ['  stage b', '    a line longer than the terminal'], 'b'));
    p.end();
    p.update(view('b', ['  stage b'], 'b'));
    assert.deepEqual(chunks, [
      '  stage a\n    x 1/10\n',
      '\x1b[2F\x1b[J',
      '  stage a\n    x 2/10\n',
      '  stage b\n    a line longer than…\n',
      '  stage b\n',
    ]);
  });
});
