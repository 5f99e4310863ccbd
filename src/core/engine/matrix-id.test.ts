import { describe, expect, it } from 'vitest'
import { formatMatrixId, parseMatrixId } from './matrix-id.ts'

describe('matrix ids', () => {
  it('round-trip', () => {
    for (const p of [{ group: 'qkv', layer: 3, index: 0 }, { group: 'cls', layer: -1, index: 0 }, { group: 'up', layer: 0, index: 1 }] as const) {
      expect(parseMatrixId(formatMatrixId(p))).toEqual(p)
    }
  })

  it('refuse anything else, without throwing', () => {
    for (const id of ['', 'qkv:3', 'qkv:3:0:1', 'xyz:1:0', 'qkv:-2:0', 'qkv:01:0', 'qkv:1:-1', 'qkv:999999:0', ' qkv:1:0', 'cls:-1:0\n']) {
      expect(parseMatrixId(id)).toBeUndefined()
    }
  })
})
