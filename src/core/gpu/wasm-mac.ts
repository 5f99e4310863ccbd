/**
 * The reference the GPU graph is held to: the miner's WebAssembly kernel
 * (he/kernel/mac-kernel.ts), driven over the same dense layout and with the same
 * mac2 / fold / reduce sequence as `macBlocks` in he/miner.ts. Used by the self-test,
 * the tests and the benchmark.
 *
 * Layout (all u64 as (lo, hi) Uint32 pairs, little-endian):
 * - weights: blocks × chunks × N, dense (block, chunk, k) — an all-zero poly where the
 *   miner has no weight block (it skips it; a zero product changes nothing);
 * - inputs: chunks × 2 × N — per chunk c0 then c1, exactly the miner's X region;
 * - result: blocks × 2 × N — per block acc0 then acc1, each the miner's OUT region.
 */
import { barrett, createMacKernel, foldInterval } from '../he/kernel/mac-kernel.ts'
import { checkMacShape, type MacShape } from './mac-graph.ts'
import { checkResidues } from './limbs.ts'

/** The kernel with one matrix's weights loaded. */
export interface WasmMac {
  /** Σ_c x_c ⊙ w_bc mod q for every block, (blocks, 2, N) words. */
  mac: (inputs: Uint32Array) => Uint32Array
  /** Kernel memory in bytes. */
  readonly heapBytes: number
}

/**
 * Load `weights` (blocks × chunks × N residues) into a kernel instance.
 * @throws {GpuGraphError} for an unsupported shape; {GpuJobError} for wrong weights.
 */
export function createWasmMac (shape: MacShape, weights: Uint32Array): WasmMac {
  checkMacShape(shape)
  const { q, polyDegree: n, chunks, blocks } = shape
  checkResidues(weights, blocks * chunks * n, q, 'weights')
  const polyBytes = 8 * n
  const xOff = blocks * chunks * polyBytes
  const accOff = xOff + chunks * 2 * polyBytes
  const outOff = accOff + 4 * polyBytes
  const heapBytes = outOff + 2 * polyBytes
  const kernel = createMacKernel()
  kernel.ensure(heapBytes)
  new Uint32Array(kernel.memory.buffer, 0, weights.length).set(weights)
  const { mu, shift } = barrett(q)
  const fold = foldInterval(q)
  return {
    heapBytes,
    mac (inputs) {
      checkResidues(inputs, chunks * 2 * n, q, 'inputs')
      new Uint32Array(kernel.memory.buffer, xOff, inputs.length).set(inputs)
      const out = new Uint32Array(blocks * 4 * n)
      for (let b = 0; b < blocks; b++) {
        new Uint8Array(kernel.memory.buffer, accOff, 4 * polyBytes).fill(0)
        for (let c = 0; c < chunks; c++) {
          const x = xOff + c * 2 * polyBytes
          kernel.mac2(x, x + polyBytes, (b * chunks + c) * polyBytes, accOff, accOff + 2 * polyBytes, n)
          if ((c + 1) % fold === 0) kernel.reduce(accOff, accOff, 2 * n, q, mu, shift, 16)
        }
        kernel.reduce(accOff, outOff, 2 * n, q, mu, shift, 8)
        out.set(new Uint32Array(kernel.memory.buffer, outOff, 4 * n), b * 4 * n)
      }
      return out
    }
  }
}
