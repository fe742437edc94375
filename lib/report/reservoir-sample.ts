// A uniform sample of k items from a stream of unknown length in one pass (Vitter's algorithm R), so the report
// can show random kept queries without holding every kept pair in memory.

export class ReservoirSample<T> {
  private readonly items: T[] = [];
  private seen = 0;

  /** `random` is uniform in [0, 1) from a seeded generator: the same seed and stream give the same sample. */
  constructor(
    private readonly k: number,
    private readonly random: () => number,
  ) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`sample size must be a non-negative integer, got ${k}`);
  }

  add(item: T): void {
    this.seen++;
    if (this.items.length < this.k) {
      this.items.push(item);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.k) this.items[j] = item;
  }

  /** The sample in stream order of the slots (stable for a given seed). */
  get sample(): readonly T[] {
    return this.items;
  }

  get count(): number {
    return this.seen;
  }
}
