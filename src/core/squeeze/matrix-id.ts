/**
 * Matrix ids: how a job names the squeezed matrix it runs on, "group:layer:index"
 * ("qkv:3:0", "o-up:0:0", "cls:-1:0"). Formatting and parsing live together here; the
 * miner resolves an id against its own squeeze of the checkpoint (`squeezedMatrix`).
 */
import type { RoundGroup } from '../model/forward.ts'

/** Longest id accepted: "cls-down:" + a 5-digit layer + ":" + 2 digits, with room to spare. */
export const MAX_MATRIX_ID_LENGTH = 32

/** Most matrices in one group: 'down-qkv' unstacked is W2 and Wq|Wk|Wv products (4). */
export const MAX_MATRICES_PER_GROUP = 8

/** Largest layer index accepted (Llama-2-70B has 80 layers). */
export const MAX_LAYER = 9999

const GROUPS: readonly RoundGroup[] = ['qkv', 'o', 'up', 'down', 'cls', 'o-up', 'down-qkv', 'cls-down']
const ID = /^([a-z-]+):(-1|0|[1-9]\d*):(\d)$/

/** What an id names. */
export interface MatrixIdParts {
  readonly group: RoundGroup
  /** -1 for the classifier. */
  readonly layer: number
  readonly index: number
}

/** The id of matrix `index` of a group. */
export function formatMatrixId (group: RoundGroup, layer: number, index: number): string {
  return `${group}:${layer}:${index}`
}

/**
 * The id a {@link MinerLink} knows a matrix's batched prefill plan by ("qkv:3:0*16"): the
 * same matrix under a second plan. Links send {@link baseMatrixId} on the wire; the plan
 * travels with every job.
 */
export function prefillMatrixId (id: string, batch: number): string {
  return `${id}*${batch}`
}

/** The matrix id of a link's id (a prefill id without its batch). */
export function baseMatrixId (linkId: string): string {
  const star = linkId.indexOf('*')
  return star < 0 ? linkId : linkId.slice(0, star)
}

/** The parts of an id, or undefined when it is not one this version knows. */
export function parseMatrixId (id: string): MatrixIdParts | undefined {
  if (id.length > MAX_MATRIX_ID_LENGTH) return undefined
  const m = ID.exec(id)
  if (m === null) return undefined
  const group = GROUPS.find(g => g === m[1])
  const layer = Number(m[2])
  const index = Number(m[3])
  if (group === undefined || layer > MAX_LAYER || index >= MAX_MATRICES_PER_GROUP) return undefined
  if ((group === 'cls') !== (layer === -1)) return undefined
  return { group, layer, index }
}
