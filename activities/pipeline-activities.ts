import type { Bm25Activities } from './bm25-activities.ts';
import type { LlmActivities } from './llm-activities.ts';
import type { PrepareActivities } from './prepare-activities.ts';
import type { PromotionActivities } from './promotion-activities.ts';
import type { ReportActivities } from './report-activities.ts';
import type { RetrieverActivities } from './retriever-activities.ts';

/** The pipeline's activities as the workflow sees them: typed inputs, small plain-JSON results. */
export type PipelineActivities = PrepareActivities & PromotionActivities & Bm25Activities & LlmActivities & ReportActivities & RetrieverActivities;
