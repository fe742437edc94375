// Query lengths in words, summarised as counts per length bin and a few order statistics.

interface LengthBin {
  /** Inclusive word-count range; `to` is null for the open last bin. */
  readonly from: number;
  readonly to: number | null;
  readonly count: number;
}

export interface LengthSummary {
  readonly count: number;
  readonly mean: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Words as whitespace-separated tokens: what a reader counts, independent of any tokenizer. */
export function wordCount(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/** Counts lengths per word-count value; cheap to fill while streaming. */
export class LengthCounter {
  private readonly counts = new Map<number, number>();
  private total = 0;

  add(length: number): void {
    this.counts.set(length, (this.counts.get(length) ?? 0) + 1);
    this.total++;
  }

  get size(): number {
    return this.total;
  }

  /** Longest length added, 0 when empty. */
  get maxLength(): number {
    return this.total === 0 ? 0 : Math.max(...this.counts.keys());
  }

  /**
   * Bins of `width` words starting at 1 (length-0 queries, if any, fall into the first bin), the last bin open
   * so the table stays short: lengths >= 1 + width * (maxBins - 1) share it. `upTo` sizes the bins for the
   * longest length of several counters, so their tables line up.
   */
  bins(width: number, maxBins: number, upTo = this.maxLength): LengthBin[] {
    if (!Number.isInteger(width) || width < 1 || !Number.isInteger(maxBins) || maxBins < 1) {
      throw new RangeError(`histogram needs a positive integer bin width and bin count, got ${width} and ${maxBins}`);
    }
    if (upTo < 1 && this.total === 0) return [];
    const needed = Math.min(maxBins, Math.max(1, Math.ceil(upTo / width)));
    const out = Array.from({ length: needed }, (_, i) => ({ from: 1 + i * width, to: i === needed - 1 && needed === maxBins ? null : (i + 1) * width, count: 0 }));
    for (const [len, n] of this.counts) {
      const i = Math.min(needed - 1, Math.max(0, Math.floor((len - 1) / width)));
      out[i]!.count += n;
    }
    return out;
  }

  summary(): LengthSummary | null {
    if (this.total === 0) return null;
    const sorted = [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
    let sum = 0;
    for (const [len, n] of sorted) sum += len * n;
    // Median: mean of the two middle values for an even count, as in most statistics packages.
    const at = (rank: number): number => {
      let seen = 0;
      for (const [len, n] of sorted) {
        seen += n;
        if (rank < seen) return len;
      }
      return sorted.at(-1)![0];
    };
    const median = this.total % 2 === 1 ? at((this.total - 1) / 2) : (at(this.total / 2 - 1) + at(this.total / 2)) / 2;
    return { count: this.total, mean: sum / this.total, median, min: sorted[0]![0], max: sorted.at(-1)![0] };
  }
}
