// Block-max metadata over impact-sorted-by-document posting lists: each term's postings are cut into blocks of
// BLOCK_SIZE, and per block we keep its last document and its largest impact. A search bounds what a term can add
// to any document in a range of documents by the largest impact of the blocks overlapping that range, which is far
// tighter than the term's global maximum for long lists (Ding & Suel, "Faster top-k document retrieval using
// block-max indexes", SIGIR 2011).

export const BLOCK_SIZE = 128;

export interface PostingBlocks {
  /** Length terms + 1: term t owns blocks blockStart[t] .. blockStart[t+1]. */
  readonly blockStart: Uint32Array;
  /** Per block, the document of its last posting. */
  readonly blockLast: Uint32Array;
  /** Per block, its largest impact. */
  readonly blockMax: Float32Array;
}

/** Builds the metadata from CSR postings (term t's postings are docs[postingStart[t] .. postingStart[t+1])). */
export function buildPostingBlocks(postingStart: Uint32Array, docs: Uint32Array, impacts: Float32Array): PostingBlocks {
  const terms = postingStart.length - 1;
  const blockStart = new Uint32Array(terms + 1);
  for (let t = 0; t < terms; t++) blockStart[t + 1] = blockStart[t]! + Math.ceil((postingStart[t + 1]! - postingStart[t]!) / BLOCK_SIZE);
  const blocks = blockStart[terms]!;
  const blockLast = new Uint32Array(blocks);
  const blockMax = new Float32Array(blocks);
  let b = 0;
  for (let t = 0; t < terms; t++) {
    const end = postingStart[t + 1]!;
    for (let from = postingStart[t]!; from < end; from += BLOCK_SIZE, b++) {
      const to = Math.min(from + BLOCK_SIZE, end);
      let max = 0;
      for (let p = from; p < to; p++) if (impacts[p]! > max) max = impacts[p]!;
      blockMax[b] = max;
      blockLast[b] = docs[to - 1]!;
    }
  }
  return { blockStart, blockLast, blockMax };
}
