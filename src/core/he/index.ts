/**
 * Encrypted linear layers: exact BFV matrix–vector products over int8, with Microsoft
 * SEAL (node-seal). This folder is the only place that imports node-seal; its public
 * surface is bytes and typed arrays.
 *
 * @example
 * ```ts
 * import { loadSeal, createHeUser, createHeMiner, planMatvec, NETWORKS } from './src/core/he/index.ts'
 * const seal = await loadSeal()
 * const { plan } = planMatvec(768, 768, { network: NETWORKS.lan })
 * const user = createHeUser(seal)                 // holds the secret key; never exports it
 * const miner = createHeMiner(seal)               // no secret key at all
 * const matrix = miner.prepare(plan, weightsInt8) // public weights, NTT-encoded once
 * const results = miner.compute(matrix, user.encryptInput(plan, xInt8))
 * const y = user.decryptResults(plan, results)    // == matvecInt8(weights, x), exactly
 *
 * // The packed scheme: Galois keys once per session, one input and one result ciphertext.
 * const packed = planMatvec(768, 768, { scheme: 'auto', weights: weightsInt8 }).plan
 * const keys = miner.loadGaloisKeys(user.galoisKeys(packed), packed)
 * const m2 = miner.prepare(packed, weightsInt8)
 * const y2 = user.decryptResults(packed, miner.compute(m2, user.encryptInput(packed, xInt8), keys))
 * // a prompt of T tokens: planMatvec(…, { batch: T }), user.encryptBatch / decryptBatch
 *
 * // The multiply-accumulate on an engine (a GPU, src/gpu/mac-engine.ts): the same bytes.
 * const { layout, weights } = miner.macWeights(matrix)
 * const onGpu = await engine.load(layout, weights)
 * const same = await miner.computeWith(matrix, user.encryptInput(plan, xInt8), onGpu)
 * ```
 */
export { loadSeal, type Seal, type LoadSealOptions } from './seal.ts'
export { createHeUser, type HeUser } from './user.ts'
export { createHeMiner, type HeMiner, type PreparedMatrix, type GaloisKeyHandle } from './miner.ts'
export type { MacEngine, MacLayout, MacWeights, LoadedMac } from './mac-engine.ts'
export { makePlan, makePackedPlan, packedInfo, blockRows, planFromData, planToData, resultBits, splitBlocks, MAX_DIMENSION, MAX_BATCH, type MatvecPlan, type PackedPlanInfo, type PackedChoice, type PlanData } from './plan.ts'
export { planMatvec, predictPlan, predictNoiseBudget, splitWays, NETWORKS, DEFAULT_COST_MODEL, type NetworkProfile, type CostModel, type RingCosts, type PlanPrediction, type PlannedMatvec, type PlannerOptions } from './planner.ts'
export { packedCounts, type PackedCosts, type PackedCounts } from './packed-planner.ts'
export { RING_PRESETS, SECURE_PRESETS, SECURE_PACKED_PRESETS, presetByName, paramsKey, validateParams, type RingPreset, type HeParams } from './params.ts'
export { blockSplit, plainBitsFor, resultBound, matvecPacked, type BlockSplit } from './packing.ts'
export { packedLayout, forEachOutput, outputCount, treesOf, type PackedLayout } from './packed-layout.ts'
export { matvecPackedTwin } from './packed-twin.ts'
export { packedPlainModulus, packedResultBound } from './packed-params.ts'
export { measureNoiseBudget, MIN_NOISE_BUDGET_BITS } from './noise.ts'
export { measurePackedNoise, type PackedNoiseReport } from './packed-noise-check.ts'
export { calibrateCostModel, calibrateRing, calibratePacked } from './calibrate.ts'
export { HE_WIRE_VERSION, inputWireBytes, resultWireBytes } from './wire.ts'
export { packedInputBytes, packedResultBytes } from './packed-wire.ts'
export { galoisKeyBytes, MAX_GALOIS_KEY_BYTES } from './galois-keys.ts'
export { prepareSealOnly, probeSplit, type SealOnlyMatvec } from './baseline.ts'
export { HeParamsError, HeWireError, HeJobError, HeKeysRotatedError, SealError } from './errors.ts'
