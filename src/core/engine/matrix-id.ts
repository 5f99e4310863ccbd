/**
 * Matrix ids: how a job names a squeezed matrix ("qkv:3:0" = matrix 0 of layer 3's qkv
 * group), formatted by the user's encrypted backend and parsed by the miner, in one place.
 * A miner squeezes the model itself, so the id is all a request needs to name the weights.
 */
import type { LinearGroup } from '../model/forward.ts'

/** The parts of a matrix id. */
export interface MatrixIdParts {
  readonly group: LinearGroup
  /** Layer index; -1 for the classifier. */
  readonly layer: number
  /** Index of the matrix within its group (0 when the group is fused into one matrix). */
  readonly index: number
}

const GROUPS: readonly LinearGroup[] = ['qkv', 'o', 'up', 'down', 'cls']
const PATTERN = /^(qkv|o|up|down|cls):(-1|0|[1-9]\d{0,4}):(0|[1-9]\d{0,2})$/

/** The id of matrix `index` of `group` in `layer`. */
export function formatMatrixId (p: MatrixIdParts): string {
  return `${p.group}:${p.layer}:${p.index}`
}

/** The parts of an id, or undefined when it is not a matrix id (a peer's bytes: never throws). */
export function parseMatrixId (id: string): MatrixIdParts | undefined {
  const m = PATTERN.exec(id)
  if (m === null) return undefined
  const group = GROUPS.find(g => g === m[1])
  if (group === undefined) return undefined
  return { group, layer: Number(m[2]), index: Number(m[3]) }
}
