import type { ActivityProgress } from '../../common/activity-progress.ts';

/** A retriever-training heartbeat in the middle of a dev search, as the stage sends it. */
export const TRAINING_PROGRESS: ActivityProgress = {
  stage: 'train-retrievers',
  subject: 'sptar',
  task: 'dev search',
  unit: 'steps',
  done: 12,
  total: 40,
  phase: 'mixed',
  epoch: 1,
  epochs: 1,
  part: { unit: 'documents', done: 320, total: 500 },
  perSecond: 0.21,
  etaSeconds: 133,
};
