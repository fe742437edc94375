// When a generated row is finished: an end-of-sequence token, a stop token (e.g. any token containing a
// newline, since one query is one line), or the new-token budget.

export type FinishReason = 'eos' | 'stop-token' | 'max-new-tokens';

export interface StoppingCriteria {
  readonly eosTokenIds: readonly number[];
  readonly stopTokenIds: readonly number[];
  readonly maxNewTokens: number;
}

interface StopDecision {
  /** Whether the token just produced belongs to the output. */
  readonly keepToken: boolean;
  readonly finish: FinishReason | undefined;
}

export class StopChecker {
  private readonly eos: ReadonlySet<number>;
  private readonly stop: ReadonlySet<number>;
  readonly maxNewTokens: number;

  constructor(criteria: StoppingCriteria) {
    if (!Number.isInteger(criteria.maxNewTokens) || criteria.maxNewTokens < 1) {
      throw new Error(`maxNewTokens must be a positive integer, got ${criteria.maxNewTokens}`);
    }
    this.eos = new Set(criteria.eosTokenIds);
    this.stop = new Set(criteria.stopTokenIds);
    this.maxNewTokens = criteria.maxNewTokens;
  }

  /** Decides on `token`, the `count`-th new token of its row (1-based). Stop tokens are not kept. */
  check(token: number, count: number): StopDecision {
    if (this.eos.has(token)) return { keepToken: false, finish: 'eos' };
    if (this.stop.has(token)) return { keepToken: false, finish: 'stop-token' };
    return { keepToken: true, finish: count >= this.maxNewTokens ? 'max-new-tokens' : undefined };
  }
}
