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
 * const miner = createHeMiner(seal)               // no key at all
 * const matrix = miner.prepare(plan, weightsInt8) // public weights, NTT-encoded once
 * const results = miner.compute(matrix, user.encryptInput(plan, xInt8))
 * const y = user.decryptResults(plan, results)    // == matvecInt8(weights, x), exactly
 * ```
 */
export { loadSeal, type Seal, type LoadSealOptions } from './seal.ts'
export { createHeUser, type HeUser } from './user.ts'
export { createHeMiner, type HeMiner, type PreparedMatrix } from './miner.ts'
export { makePlan, resultBits, planFromData, planToData, splitBlocks, MAX_DIMENSION, type MatvecPlan, type PlanData } from './plan.ts'
export { planMatvec, predictPlan, predictNoiseBudget, splitWays, NETWORKS, DEFAULT_COST_MODEL, type NetworkProfile, type CostModel, type RingCosts, type PlanPrediction, type PlannedMatvec, type PlannerOptions } from './planner.ts'
export { RING_PRESETS, SECURE_PRESETS, presetByName, paramsKey, validateParams, type RingPreset, type HeParams } from './params.ts'
export { blockSplit, plainBitsFor, resultBound, matvecPacked, type BlockSplit } from './packing.ts'
export { measureNoiseBudget, MIN_NOISE_BUDGET_BITS } from './noise.ts'
export { calibrateCostModel, calibrateRing } from './calibrate.ts'
export { HE_WIRE_VERSION, inputWireBytes, resultWireBytes } from './wire.ts'
export { prepareSealOnly, probeSplit, type SealOnlyMatvec } from './baseline.ts'
export { HeParamsError, HeWireError, HeJobError, SealError } from './errors.ts'
