// Keeps the k best (score, document) pairs seen so far in a binary min-heap: O(n log k) over n candidates.
// "Better" means a higher score, or an equal score and a larger document id (trec_eval's tie order).

export class TopK {
  private readonly docs: Int32Array;
  private readonly scores: Float64Array;
  private size = 0;

  constructor(
    private readonly k: number,
    private readonly ids: readonly string[],
  ) {
    this.docs = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  /** True when entry i ranks below entry j. */
  private worse(si: number, di: number, sj: number, dj: number): boolean {
    return si < sj || (si === sj && this.ids[di]! < this.ids[dj]!);
  }

  offer(doc: number, score: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(score, doc, this.scores[parent]!, this.docs[parent]!)) break;
        this.docs[i] = this.docs[parent]!;
        this.scores[i] = this.scores[parent]!;
        i = parent;
      }
      this.docs[i] = doc;
      this.scores[i] = score;
      return;
    }
    if (!this.worse(this.scores[0]!, this.docs[0]!, score, doc)) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      let c = l;
      if (r < this.size && this.worse(this.scores[r]!, this.docs[r]!, this.scores[l]!, this.docs[l]!)) c = r;
      if (!this.worse(this.scores[c]!, this.docs[c]!, score, doc)) break;
      this.docs[i] = this.docs[c]!;
      this.scores[i] = this.scores[c]!;
      i = c;
    }
    this.docs[i] = doc;
    this.scores[i] = score;
  }

  /** True once k entries are kept: from then on the lowest kept score is a threshold to beat. */
  isFull(): boolean {
    return this.size === this.k;
  }

  /** The lowest score kept (the k-th best once full); 0 when empty. */
  minScore(): number {
    return this.size === 0 ? 0 : this.scores[0]!;
  }

  /** Best first. */
  results(): { doc: number; score: number }[] {
    const out: { doc: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ doc: this.docs[i]!, score: this.scores[i]! });
    return out.sort((a, b) => (this.worse(a.score, a.doc, b.score, b.doc) ? 1 : this.worse(b.score, b.doc, a.score, a.doc) ? -1 : 0));
  }
}
