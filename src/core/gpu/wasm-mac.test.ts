import { describe, expect, it } from 'vitest'
import { knownJob } from './known-job.ts'
import { nttPrime } from './ntt-prime.ts'
import { createWasmMac } from './wasm-mac.ts'

const big = (w: Uint32Array, i: number): bigint => (BigInt(w[2 * i + 1]) << 32n) | BigInt(w[2 * i])

describe('the WebAssembly reference over the GPU layout', () => {
  for (const [bits, n, chunks, blocks] of [[54, 32, 5, 3], [60, 16, 40, 2], [50, 64, 2, 4]] as const) {
    it(`equals Σ x·w mod q in BigInt (${bits}-bit q, N=${n}, ${chunks} chunks × ${blocks} blocks)`, () => {
      const shape = { q: nttPrime(bits, n), polyDegree: n, chunks, blocks }
      const job = knownJob(shape, bits)
      const out = createWasmMac(shape, job.weights).mac(job.inputs)
      for (let b = 0; b < blocks; b++) {
        for (let p = 0; p < 2; p++) {
          for (let k = 0; k < n; k++) {
            let acc = 0n
            for (let c = 0; c < chunks; c++) acc += big(job.inputs, (c * 2 + p) * n + k) * big(job.weights, (b * chunks + c) * n + k)
            expect(big(out, (b * 2 + p) * n + k)).toBe(acc % shape.q)
          }
        }
      }
    })
  }
})
