// All workflows, for the worker's workflowsPath bundle.
export { smokeWorkflow } from './smoke-workflow.ts';
export { sptarPipeline } from './pipeline-workflow.ts';
export { generateWeakQueriesWorkflow, generateShardWorkflow } from './generation-workflow.ts';
