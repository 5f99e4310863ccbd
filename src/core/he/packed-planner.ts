/**
 * Planning packed jobs: for a shape, a batch and a network, the split (n_i, orbit depth b,
 * vectors per ciphertext) with the lowest predicted latency whose noise bound holds — and
 * the prediction the CLI explains.
 *
 * The split point b trades input-side expansion (2^b − 1 key switches per input ciphertext,
 * shared by every leaf) against output packing (one per merge of the top tree); the balanced
 * split costs ~2·√leaves key switches. Deeper orbits add noise (packed-noise.ts), which the
 * weights decide: with `weights` the bound is the matrix's own (what the miner checks),
 * without it the bound for any int8 matrix, which allows only shallow orbits.
 */
import { HeParamsError } from './errors.ts'
import { galoisKeyBytes } from './galois-keys.ts'
import { outputCount, treesOf } from './packed-layout.ts'
import { matrixInputNoiseBits, worstInputNoiseBits } from './packed-noise.ts'
import { packedInputBytes, packedResultBytes } from './packed-wire.ts'
import { SECURE_PACKED_PRESETS, type RingPreset } from './params.ts'
import { makePackedPlan, packedInfo, type MatvecPlan } from './plan.ts'

/** Microseconds per operation of the packed scheme on one ring (measured by calibrate.ts). */
export interface PackedCosts {
  /** User: pack, encrypt (seeded) and serialize one input ciphertext. */
  readonly encrypt: number
  /** User: decode, rescale and SEAL-decrypt one result ciphertext. */
  readonly decrypt: number
  /** Miner: validate and expand one input, scale it by 2^−b. */
  readonly loadInput: number
  /** Miner: one automorphism with its key switch (SEAL applyGalois). */
  readonly keySwitch: number
  /** Miner: one forward or inverse NTT of a ciphertext. */
  readonly ntt: number
  /** Miner: one ciphertext × plaintext product-accumulate in the kernel. */
  readonly macProduct: number
  /** Miner: the rest of one tree merge (shift, add, subtract). */
  readonly merge: number
  /** Miner: export, switch and encode one result ciphertext. */
  readonly finish: number
  /** User: make the Galois key set (once per session and parameter set), ms. */
  readonly keyGenMs: number
}

/** What a packed job costs, by the plan's counts (no timing). */
export interface PackedCounts {
  readonly inputs: number
  readonly keySwitches: number
  readonly inputKeySwitches: number
  readonly ntts: number
  readonly products: number
  readonly merges: number
  readonly results: number
  readonly bytesUp: number
  readonly bytesDown: number
  readonly galoisKeyBytes: number
}

/** The counts of blocks [first, end) of a packed plan (default: the whole job). */
export function packedCounts (plan: MatvecPlan, range?: readonly [number, number]): PackedCounts {
  const L = packedInfo(plan).layout
  const [first, end] = range ?? [0, L.blocks]
  const { c0Bits, c1Bits } = packedInfo(plan).widths
  const primeBits = plan.params.preset.coeffBits
  const groups = first === end ? 0 : Math.floor((end - 1) / L.colsPerGroup) - Math.floor(first / L.colsPerGroup) + 1
  const inputs = groups * L.chunks
  const levelTwo = L.m === 1 && L.orbitLevels > 0 ? 2 ** (L.orbitLevels - 1) : 0
  const inputKeySwitches = inputs * (2 ** L.orbitLevels - 1 + levelTwo)
  const parts = treesOf(L, first, end)
  const merges = (end - first) - parts.length
  const treeLevelTwo = L.m + L.orbitLevels + 1 === 2 ? 2 : 1
  let bytesDown = 0
  for (const p of parts) bytesDown += packedResultBytes(L.polyDegree, c0Bits, c1Bits, outputCount(L, p.first, p.end))
  return {
    inputs,
    keySwitches: inputKeySwitches + merges * treeLevelTwo,
    inputKeySwitches,
    ntts: inputs * 2 ** L.orbitLevels + (end - first),
    products: (end - first) * L.chunks * 2 ** L.orbitLevels,
    merges,
    results: parts.length,
    bytesUp: L.groups * L.chunks * packedInputBytes(L.polyDegree, primeBits[0]),
    bytesDown,
    galoisKeyBytes: galoisKeyBytes(L.polyDegree, primeBits[0], primeBits[1])
  }
}

/** Predicted user and miner milliseconds of a packed job. */
export function packedTimes (plan: MatvecPlan, c: PackedCosts): { userMs: number, minerMs: number, counts: PackedCounts } {
  const k = packedCounts(plan)
  const userMs = (k.inputs * c.encrypt + k.results * c.decrypt) / 1000
  const minerMs = (k.inputs * c.loadInput + k.keySwitches * c.keySwitch + k.ntts * c.ntt + k.products * c.macProduct + k.merges * c.merge + k.results * c.finish) / 1000
  return { userMs, minerMs, counts: k }
}

/** Options of {@link packedCandidates}. */
export interface PackedSearch {
  readonly batch?: number
  readonly presets?: readonly RingPreset[]
  /** The weights: the noise bound is then the matrix's own (deeper orbits become possible). */
  readonly weights?: Int8Array
  /** Share one t between plans (one key set for all of them). */
  readonly plainModulus?: number
  /** Consider only this n_i / orbit depth. */
  readonly nI?: number
  readonly orbitLevels?: number
  /** Consider only this many input vectors per ciphertext (clamped to what the layout allows). */
  readonly vectors?: number
  /**
   * Most input vectors per ciphertext (default: as many as the batch fills). A prepared
   * matrix costs its miner ≈ 8·v bytes per weight (each merged plaintext holds N/v weights
   * in 8·N bytes), so this bounds a batched plan's memory at v× a one-vector plan's.
   */
  readonly maxVectors?: number
}

/**
 * The feasible packed plan with the lowest `score` (lower is better), or undefined.
 * For each (n_i, vectors per ciphertext), orbit depths are tried upwards; noise grows with
 * the depth, so the first infeasible depth ends the row. Without weights the bound is the
 * one for any int8 matrix; with weights, depths that bound rules out are checked against
 * the matrix's exact bound — only while a noiseless lower bound of their score can still
 * beat the best so far (the exact check builds every merged plaintext: O(2^b·leaves·N)).
 */
export function bestPackedPlan (dOut: number, dIn: number, opts: PackedSearch, score: (plan: MatvecPlan) => number): MatvecPlan | undefined {
  const batch = opts.batch ?? 1
  const w = opts.weights
  let best: { plan: MatvecPlan, score: number, exact: boolean } | undefined
  const consider = (plan: MatvecPlan, exact = false): void => {
    const s = score(plan)
    if (best === undefined || s < best.score) best = { plan, score: s, exact }
  }
  const make = (preset: RingPreset, nI: number, b: number, v: number, noiseBits16?: number): MatvecPlan | undefined => {
    try {
      return makePackedPlan(dOut, dIn, preset, { nI, orbitLevels: b, vectors: v, batch, plainModulus: opts.plainModulus, noiseBits16 })
    } catch (err) {
      if (err instanceof HeParamsError) return undefined
      throw err
    }
  }
  // Rows (n_i, v) whose deeper orbits the any-matrix bound rules out, with the noiseless
  // score of each such depth (a lower bound of its real score).
  const deferred: Array<{ preset: RingPreset, nI: number, v: number, depths: Array<{ b: number, lower: number }>, lower: number }> = []
  for (const preset of opts.presets ?? SECURE_PACKED_PRESETS) {
    const n = preset.polyDegree
    for (let nI = MIN_PACKED_NI; nI <= n / 2; nI *= 2) {
      if (opts.nI !== undefined && nI !== opts.nI) continue
      if (Math.ceil(dIn / nI) > MAX_PACKED_CHUNKS) continue
      const m = Math.log2(n / nI)
      for (let v = 1; v <= Math.min(2 ** m, 2 ** Math.ceil(Math.log2(batch)), opts.maxVectors ?? Infinity); v *= 2) {
        if (opts.vectors !== undefined && v !== opts.vectors) continue
        const depths: Array<{ b: number, lower: number }> = []
        for (let b = 0; m + b <= Math.log2(n); b++) {
          if (opts.orbitLevels !== undefined && b !== opts.orbitLevels) continue
          const plan = depths.length === 0 ? make(preset, nI, b, v) : undefined
          if (plan !== undefined) { consider(plan); continue }
          const optimistic = w === undefined || b === 0 ? undefined : make(preset, nI, b, v, 0)
          if (optimistic !== undefined) depths.push({ b, lower: score(optimistic) })
          else if (w === undefined) break
        }
        if (depths.length > 0) deferred.push({ preset, nI, v, depths, lower: Math.min(...depths.map(d => d.lower)) })
      }
    }
  }
  if (w === undefined) return best?.plan
  deferred.sort((a, b) => a.lower - b.lower)
  for (const d of deferred) {
    if (best !== undefined && d.lower >= best.score) break
    for (const { b, lower } of d.depths) {
      if (best !== undefined && lower >= best.score) continue
      const probe = make(d.preset, d.nI, b, d.v, 0)
      if (probe === undefined) break
      const info = packedInfo(probe)
      // the largest declared bound this depth allows: the exact check stops at a column above it
      const limit = largestFeasibleNoise(Math.ceil(16 * worstInputNoiseBits(info.layout, info.noiseParams)), n16 => make(d.preset, d.nI, b, d.v, n16) !== undefined)
      const bits = matrixInputNoiseBits(info.layout, w, info.noiseParams, limit)
      const plan = bits === Infinity ? undefined : make(d.preset, d.nI, b, d.v, Math.ceil(16 * bits))
      if (plan === undefined) break // noise grows with the depth: deeper fails too
      consider(plan, true)
    }
  }
  // A plan the any-matrix bound allowed still gets narrower results with the exact bound.
  const chosen: MatvecPlan | undefined = best?.plan
  const info = chosen?.packed
  // (a plan of the exact pass has its matrix's bound already: computing it again costs as much)
  if (chosen === undefined || info === undefined || info.layout.orbitLevels === 0 || best?.exact === true) return chosen
  const exact = Math.ceil(16 * matrixInputNoiseBits(info.layout, w, info.noiseParams))
  if (exact >= info.noiseBits16) return chosen
  return make(chosen.params.preset, info.layout.nI, info.layout.orbitLevels, info.layout.vectors, exact) ?? chosen
}

/**
 * The largest declared bound n16 in [0, hi] with `ok(n16)`, given ok(0) and that ok is
 * monotone (a plan that holds a bound holds every smaller one): a binary search over
 * `makePackedPlan`, ~10 cheap calls instead of an exact check past the point that matters.
 */
function largestFeasibleNoise (hi: number, ok: (n16: number) => boolean): number {
  if (ok(hi)) return hi
  let lo = 0 // ok
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (ok(mid)) lo = mid
    else hi = mid
  }
  return lo
}

/** Smallest n_i the planner tries: narrower chunks only multiply the input ciphertexts. */
const MIN_PACKED_NI = 64
/** Most input ciphertexts per vector the planner tries (a 4096-wide input at n_i = 64). */
const MAX_PACKED_CHUNKS = 64
