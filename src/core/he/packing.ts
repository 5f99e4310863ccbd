/**
 * Coefficient encoding of an int8 matrix–vector product (the "Cheetah" packing:
 * Huang et al., USENIX Security 2022), independent of any HE library.
 *
 * In the ring Z_t[X]/(X^N + 1), put an input chunk of n_i values into the low
 * coefficients, x̂(X) = Σ_j x_j X^j, and a block of n_o rows × n_i columns of W into
 * ŵ(X) = Σ_r Σ_j W[r][j] X^(r·n_i + n_i − 1 − j). Their product has, at coefficient
 * r·n_i + n_i − 1, exactly Σ_j W[r][j]·x_j — the dot product of row r — because the
 * exponents j + (n_i − 1 − j) meet there and n_o·n_i ≤ N means nothing wraps around
 * onto those coefficients. A d_out × d_in matrix is cut into ⌈d_in/n_i⌉ input chunks and
 * ⌈d_out/n_o⌉ output blocks; each block's products are summed over the chunks. Every
 * output ciphertext thus carries n_o results, so the user downloads ⌈d_out/n_o⌉
 * ciphertexts, and no rotation (hence no Galois key) is ever needed.
 *
 * Values are stored mod t = 2^plainBits; a result y with |y| ≤ d_in·127² < t/2 is read
 * back by sign extension.
 */

/** How a matrix is cut into coefficient blocks. */
export interface BlockSplit {
  readonly dOut: number
  readonly dIn: number
  /** Ring degree N. */
  readonly polyDegree: number
  /** Input values per ciphertext. */
  readonly nI: number
  /** Output rows per ciphertext: ⌊N / n_i⌋ (capped at d_out). */
  readonly nO: number
  /** ⌈d_in / n_i⌉ input ciphertexts. */
  readonly chunks: number
  /** ⌈d_out / n_o⌉ output ciphertexts. */
  readonly blocks: number
}

/** The largest |y| of an int8 (±127) dot product of length dIn. */
export function resultBound (dIn: number): number {
  return dIn * 127 * 127
}

/** Bits of the plaintext modulus needed to hold every result exactly: t > 2·bound. */
export function plainBitsFor (dIn: number): number {
  return Math.ceil(Math.log2(2 * resultBound(dIn) + 1))
}

/** The split of a dOut × dIn matrix with nI inputs per ciphertext. */
export function blockSplit (dOut: number, dIn: number, polyDegree: number, nI: number): BlockSplit {
  if (!Number.isInteger(nI) || nI < 1 || nI > Math.min(dIn, polyDegree)) throw new RangeError(`n_i = ${nI} must be in [1, ${Math.min(dIn, polyDegree)}]`)
  const nO = Math.min(Math.floor(polyDegree / nI), dOut)
  return { dOut, dIn, polyDegree, nI, nO, chunks: Math.ceil(dIn / nI), blocks: Math.ceil(dOut / nO) }
}

/** Coefficient positions holding block b's results, in row order. */
export function resultPositions (s: BlockSplit, block: number): number[] {
  const rows = Math.min(s.nO, s.dOut - block * s.nO)
  const out: number[] = []
  for (let r = 0; r < rows; r++) out.push(r * s.nI + s.nI - 1)
  return out
}

// coefficient j of chunk c = x[c·n_i + j] mod t
export function packInput (s: BlockSplit, x: Int8Array, chunk: number, t: number, out: Uint32Array): void {
  out.fill(0)
  const { from, count } = inputChunk(s, chunk)
  for (let j = 0; j < count; j++) {
    const v = x[from + j]
    out[j] = v < 0 ? t + v : v
  }
}

/** The inputs of chunk `chunk`: x[from, from + count), at coefficients 0…count−1 (packInput; encryption ahead in user.ts). */
export function inputChunk (s: BlockSplit, chunk: number): { from: number, count: number } {
  const from = chunk * s.nI
  return { from, count: Math.min(s.nI, s.dIn - from) }
}

/**
 * Coefficients of W's block (b, c): W[b·n_o + r][c·n_i + j] at r·n_i + n_i − 1 − j, mod t.
 * `w` is (dOut, dIn) row-major. Returns false when the block is all zeros (SEAL refuses
 * a product with a zero plaintext, and skipping it is free).
 */
export function packWeights (s: BlockSplit, w: Int8Array, block: number, chunk: number, t: number, out: Uint32Array): boolean {
  out.fill(0)
  const rows = Math.min(s.nO, s.dOut - block * s.nO)
  const cols = Math.min(s.nI, s.dIn - chunk * s.nI)
  let nonzero = false
  for (let r = 0; r < rows; r++) {
    const src = (block * s.nO + r) * s.dIn + chunk * s.nI
    const dst = r * s.nI + s.nI - 1
    for (let j = 0; j < cols; j++) {
      const v = w[src + j]
      if (v !== 0) {
        out[dst - j] = v < 0 ? t + v : v
        nonzero = true
      }
    }
  }
  return nonzero
}

/** Read block b's results (sign-extended from mod t) into y. */
export function unpackResults (s: BlockSplit, coeffs: Uint32Array, block: number, t: number, y: Int32Array): void {
  const half = t / 2
  const rows = Math.min(s.nO, s.dOut - block * s.nO)
  for (let r = 0; r < rows; r++) {
    const v = coeffs[r * s.nI + s.nI - 1]
    y[block * s.nO + r] = v >= half ? v - t : v
  }
}

/**
 * The plaintext twin of the encrypted matvec: the same packing, the product computed as
 * polynomials mod (X^N + 1, t) — only at the result coefficients, which is O(N) per
 * chunk × block. `matvecPacked(W, x) == matvecInt8(W, x)` is the packing's own test; the
 * SEAL path is then held to the same results.
 */
export function matvecPacked (s: BlockSplit, w: Int8Array, x: Int8Array, plainBits: number): Int32Array {
  const t = 2 ** plainBits
  const half = t / 2
  const n = s.polyDegree
  const signed = (v: number): number => (v >= half ? v - t : v)
  const xin = new Uint32Array(n)
  const wb = new Uint32Array(n)
  const acc = new Float64Array(n)
  const y = new Int32Array(s.dOut)
  const coeffs = new Uint32Array(n)
  for (let b = 0; b < s.blocks; b++) {
    acc.fill(0)
    const pos = resultPositions(s, b)
    for (let c = 0; c < s.chunks; c++) {
      packInput(s, x, c, t, xin)
      if (!packWeights(s, w, b, c, t, wb)) continue
      for (const p of pos) {
        // coefficient p of x̂·ŵ mod X^N + 1: Σ_i x̂_i ŵ_(p−i), negated where p − i wraps.
        // Centred representatives keep every partial sum an exact float64 integer.
        let sum = 0
        for (let i = 0; i < s.nI; i++) {
          const k = p - i
          sum += k >= 0 ? signed(xin[i]) * signed(wb[k]) : -signed(xin[i]) * signed(wb[k + n])
        }
        acc[p] += sum
      }
    }
    for (const p of pos) coeffs[p] = ((acc[p] % t) + t) % t
    unpackResults(s, coeffs, b, t, y)
  }
  return y
}
