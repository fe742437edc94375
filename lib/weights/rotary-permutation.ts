// llama.cpp's converter reorders the output rows of the Q and K projections within each head from
// HuggingFace's rotate-half rotary layout (first half of a head's dims pairs with the second half) to the
// interleaved layout (dims 2i and 2i+1 pair up). These helpers move rows between the two layouts.

function checkShape(rows: number, cols: number, data: Float32Array, numHeads: number, what: string): number {
  if (rows * cols !== data.length) throw new Error(`${what}: ${data.length} values do not form a [${rows}, ${cols}] matrix`);
  if (numHeads <= 0 || rows % numHeads !== 0) throw new Error(`${what}: ${rows} rows cannot be split into ${numHeads} heads`);
  const headDim = rows / numHeads;
  if (headDim % 2 !== 0) throw new Error(`${what}: head dimension ${headDim} is odd; rotary pairs need an even size`);
  return headDim;
}

function moveRows(data: Float32Array, rows: number, cols: number, numHeads: number, toInterleaved: boolean, what: string): Float32Array {
  const headDim = checkShape(rows, cols, data, numHeads, what);
  const half = headDim / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < numHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let part = 0; part < 2; part++) {
        const rotateHalfRow = h * headDim + part * half + i;
        const interleavedRow = h * headDim + 2 * i + part;
        const [from, to] = toInterleaved ? [rotateHalfRow, interleavedRow] : [interleavedRow, rotateHalfRow];
        out.set(data.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/** HuggingFace rotate-half rows -> GGUF interleaved rows (what the llama.cpp converter does). */
export function permuteToInterleaved(data: Float32Array, rows: number, cols: number, numHeads: number): Float32Array {
  return moveRows(data, rows, cols, numHeads, true, 'permuteToInterleaved');
}

/** GGUF interleaved rows -> HuggingFace rotate-half rows (undoes the converter's permutation). */
export function unpermuteFromInterleaved(data: Float32Array, rows: number, cols: number, numHeads: number, tensorName = 'tensor'): Float32Array {
  return moveRows(data, rows, cols, numHeads, false, `unpermute '${tensorName}'`);
}
