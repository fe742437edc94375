import { costPrefix } from '../../common/artifact-keys.ts';
import { describeZodIssues } from '../../common/zod-issues.ts';
import type { ArtifactStore } from '../artifact-store/index.ts';
import { costRecordSchema, type CostRecord } from './stage-costs.ts';

/**
 * Every cost record of a pipeline run; unreadable records are returned as problems, not thrown. A workflow id
 * started again after it closed keeps the earlier runs' records beside the new ones: `since` (the run's start,
 * ISO time) keeps only the attempts that started at or after it.
 */
export async function readCostRecords(store: ArtifactStore, pipelineWorkflowId: string, options: { since?: string } = {}): Promise<{ records: CostRecord[]; problems: string[] }> {
  const since = options.since === undefined ? undefined : Date.parse(options.since);
  const records: CostRecord[] = [];
  const problems: string[] = [];
  for (const key of await store.list(costPrefix(pipelineWorkflowId))) {
    try {
      const parsed = costRecordSchema.safeParse(JSON.parse(new TextDecoder().decode(await store.get(key))));
      if (!parsed.success) problems.push(`${key}: ${describeZodIssues(parsed.error)}`);
      else if (since === undefined || Date.parse(parsed.data.startedAt) >= since) records.push(parsed.data);
    } catch (err) {
      problems.push(`${key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { records, problems };
}
