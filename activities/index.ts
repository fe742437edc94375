import type { ArtifactStore } from './artifact-store/index.ts';
import { createSmokeActivities } from './smoke-activities.ts';

export interface ActivityDeps {
  readonly store: ArtifactStore;
}

/** Activities for the orchestrator queue (cheap I/O). */
export function createOrchestratorActivities(deps: ActivityDeps) {
  return { ...createSmokeActivities(deps) };
}
