import { describe, expect, it } from 'vitest'
import { formatMatrixId, MAX_MATRIX_ID_LENGTH, parseMatrixId } from './matrix-id.ts'

describe('matrix ids', () => {
  it('parse what they format, for every group', () => {
    for (const [group, layer, index] of [['qkv', 0, 0], ['o', 11, 0], ['up', 3, 1], ['down', 79, 0], ['cls', -1, 0], ['o-up', 2, 0], ['down-qkv', 10, 3], ['cls-down', 4, 0]] as const) {
      const id = formatMatrixId(group, layer, index)
      expect(parseMatrixId(id)).toEqual({ group, layer, index })
    }
    expect(formatMatrixId('qkv', 3, 0)).toBe('qkv:3:0') // the form miners have always parsed
  })

  it('refuse anything else', () => {
    for (const id of ['', 'qkv', 'qkv:1', 'qkv:1:0:0', 'QKV:1:0', 'qkv:01:0', 'qkv:-2:0', 'qkv:-1:0', 'cls:0:0', 'wq:0:0', 'o-up:1:9', 'o-up:10000:0', 'qkv: 1:0', `qkv:${'1'.repeat(MAX_MATRIX_ID_LENGTH)}:0`, 'down-qkv:1:0\n']) {
      expect(parseMatrixId(id), JSON.stringify(id)).toBeUndefined()
    }
  })
})
