import ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { loadSeal, RING_PRESETS, type RingPreset } from '../he/index.ts'
import { createContext } from '../he/params.ts'
import { ciphertextBytes, CT_DATA_OFFSET } from '../he/seal-bytes.ts'
import { prng } from '../prng.ts'
import { residues } from './known-job.ts'
import { buildNttGraph } from './ntt-graph.ts'

/** SEAL's forward NTT of pairs of polynomials (as the two halves of a ciphertext). */
async function sealNtt (preset: RingPreset, polys: Uint32Array): Promise<Uint32Array> {
  const seal = await loadSeal()
  const ctx = createContext(seal, { preset, plainBits: 16 })
  const n = preset.polyDegree
  const out = new Uint32Array(polys.length)
  try {
    for (let p = 0; p < polys.length / (2 * n); p += 2) {
      const ct = new seal.Ciphertext()
      ct.loadFromArray(ctx.context, ciphertextBytes({ parmsId: ctx.parmsId, isNtt: false, size: 2, polyDegree: n, limbs: 1, words: polys.subarray(p * 2 * n, (p + 2) * 2 * n) }))
      ctx.evaluator.cipherTransformToNttInplace(ct)
      const bytes = ct.saveToArray(seal.ComprModeType.none) as Uint8Array
      out.set(new Uint32Array(bytes.slice(CT_DATA_OFFSET, CT_DATA_OFFSET + 4 * n * 8).buffer), p * 2 * n)
      ct.delete()
    }
  } finally {
    ctx.delete()
  }
  return out
}

describe('prototype: the four-step NTT graph (onnxruntime-node CPU EP) equals SEAL’s NTT', () => {
  for (const [preset, n1] of [[RING_PRESETS.testN256, 16], [RING_PRESETS.testN1024, 32], [RING_PRESETS.n2048, 32]] as const) {
    it(`${preset.name} (N = ${preset.polyDegree} = ${n1}·${preset.polyDegree / n1}), extremes mixed in`, async () => {
      const polys = 4
      const n = preset.polyDegree
      const seal = await loadSeal()
      const ctx = createContext(seal, { preset, plainBits: 16 })
      const q = ctx.primes[0]
      ctx.delete()
      const x = residues(q, polys * n, 'mixed', prng(n))
      const { model } = buildNttGraph(q, n, polys, n1, 'MatMul')
      const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 })
      const y = (await s.run({ x: new ort.Tensor('int32', new Int32Array(x.buffer), [polys * n, 2]) })).y.data as Int32Array
      await s.release()
      const want = await sealNtt(preset, x)
      expect(Array.from(new Uint32Array(y.buffer, y.byteOffset, y.length))).toEqual(Array.from(want))
    })
  }
})
