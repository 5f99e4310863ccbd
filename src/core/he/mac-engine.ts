/**
 * The miner's multiply-accumulate as a seam: where `acc_j[k] = Σ_c X_c[k] · W_jc[k] mod q`
 * runs for one prepared matrix. The miner's own WebAssembly kernel (kernel/mac-kernel.ts)
 * is the default and the reference; an engine — the GPU graph of src/gpu, on onnxruntime —
 * takes the same dense words and must return the same reduced words, so the ciphertexts a
 * miner sends are bit-identical whichever computed them (miner.test.ts and the GPU tests
 * hold them equal).
 *
 * Engines are asynchronous (a browser's GPU answers through promises); the miner's
 * `computeWith` does SEAL's part before and after the awaited MAC synchronously, so no
 * SEAL object lives across an await.
 *
 * Layout (u64 residues as little-endian (lo, hi) Uint32 pairs, all < q), the kernel's:
 * - weights: blocks × chunks × N, (block, chunk, k) order — an all-zero polynomial where
 *   the miner skips a block of W;
 * - one MAC's inputs: chunks × 2 × N — per chunk the NTT-form c0, then c1;
 * - its result: blocks × 2 × N — per block acc0 then acc1, reduced to [0, q).
 *
 * What a "chunk" and a "block" are differs per scheme: a coefficient plan's are its input
 * chunks and output blocks (one MAC per input vector); a packed plan's chunks are its input
 * chunks × orbit elements and its blocks the merged-leaf columns (one MAC per input group).
 */

/** The shape of one matrix's MAC (the same fields as core/gpu's MacShape). */
export interface MacLayout {
  /** The ciphertext prime the residues are reduced by. */
  readonly q: bigint
  readonly polyDegree: number
  readonly chunks: number
  readonly blocks: number
}

/** A prepared matrix's MAC as an engine needs it: its layout and its dense NTT-form weights. */
export interface MacWeights {
  readonly layout: MacLayout
  /** blocks × chunks × N residues as (lo, hi) words (a fresh copy; the engine may keep it). */
  readonly weights: Uint32Array
  /** MACs one job of the whole prepared range runs (input vectors or groups). */
  readonly macsPerJob: number
}

/** One matrix's weights held by an engine (a GPU holds them in its memory). */
export interface LoadedMac {
  /** Bytes the engine holds for the matrix. */
  readonly heapBytes: number
  /**
   * Σ_c x_c ⊙ w_bc mod q for every block: inputs chunks × 2 × N words, the result
   * blocks × 2 × N words in [0, q).
   * @throws the engine's typed errors (a GPU: lost device, out of memory).
   */
  mac: (inputs: Uint32Array) => Promise<Uint32Array>
  /** Free what the engine holds for the matrix. */
  dispose: () => Promise<void>
}

/** Where MACs run instead of the miner's kernel (e.g. a GPU through onnxruntime). */
export interface MacEngine {
  /** A human name for the device, e.g. "webgpu: swiftshader / google". */
  readonly name: string
  /**
   * Hold `weights` for MACs of `layout`.
   * @throws the engine's typed errors (a GPU: out of memory while uploading, no device).
   */
  load: (layout: MacLayout, weights: Uint32Array) => Promise<LoadedMac>
}
