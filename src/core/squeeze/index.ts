/**
 * Cerberus Squeezing: a compiler from a checkpoint to an encrypted plan (fusion, folding,
 * W8A8, placement, packing per network profile), and its JSON form for `cerberus plan`.
 *
 * @example
 * ```ts
 * const sq = squeezeModel(ckpt, { network: NETWORKS.lan })
 * console.log(JSON.stringify(planToJson(ckpt.config, sq), null, 2))
 * ```
 */
export * from './squeeze.ts'
export { planToJson } from './plan-json.ts'
export { baseMatrixId, formatMatrixId, parseMatrixId, prefillMatrixId, MAX_MATRIX_ID_LENGTH, type MatrixIdParts } from './matrix-id.ts'
export { squeezedFromTransfer, squeezedToTransfer, type SqueezedGroupTransfer, type SqueezedTransfer } from './transfer.ts'
export { planMemoJson, planMemoKey, parsePlanMemo, MAX_PLAN_MEMO_CHARS, PLAN_MEMO_VERSION, type PlanMemo } from './plan-memo.ts'
export { computeLazy, LAZY_SLICE_MACS } from './fused.ts'
