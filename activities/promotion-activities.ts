import type { LastSuccess } from '../common/pipeline-stages.ts';
import type { TrainedRetriever } from '../common/retriever-types.ts';
import { bestServedCandidate, promotionDecision, type GateDecision, type ServedCandidate } from '../lib/sptar/promotion-gate.ts';

export interface DecidePromotionInput {
  /** Every trained retriever of the candidate system (all replicates). */
  readonly trained: readonly TrainedRetriever[];
  readonly incumbent: LastSuccess['promoted'] | null;
  readonly seed: number;
  /** Significance level of the paired test on the dev queries. */
  readonly alpha: number;
}

/** The promotion gate as an activity: the workflow sandbox keeps the statistics out of workflow code. */
export function createPromotionActivities() {
  return {
    async decidePromotion(input: DecidePromotionInput): Promise<{ candidate: ServedCandidate; decision: GateDecision }> {
      const candidate = bestServedCandidate(input.trained);
      return { candidate, decision: promotionDecision(candidate, input.incumbent ?? null, { alpha: input.alpha, seed: input.seed }) };
    },
  };
}

export type PromotionActivities = ReturnType<typeof createPromotionActivities>;
