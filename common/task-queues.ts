// Task queues: orchestration (workflows, cheap I/O activities) and model work (onnxruntime), so model workers can
// run on other machines and scale independently.
export const TASK_QUEUES = {
  orchestrator: 'sptar-orchestrator',
  model: 'sptar-model',
} as const;
export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];
