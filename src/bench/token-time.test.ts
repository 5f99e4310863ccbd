import { describe, expect, it } from 'vitest'
import type { AnswerReceipt } from '../app/types.ts'
import { tokenTime } from './token-time.ts'

const receipt = (time?: AnswerReceipt['time']): AnswerReceipt => ({ tokens: 4, ms: 400, bytesUp: 0, bytesDown: 0, verified: 0, rejected: 0, miners: [], ...(time === undefined ? {} : { time }) })

describe('a token\'s time by where it went', () => {
  it('splits the receipt per token, the rest being what no job covers; the miners\' compute when told', () => {
    expect(tokenTime(receipt({ encryptMs: 40, decryptMs: 20, verifyMs: 4, jobsMs: 260 }))).toEqual({ encrypt: 10, decrypt: 5, verify: 1, jobs: 65, rest: 19 })
    expect(tokenTime(receipt({ encryptMs: 40, decryptMs: 20, verifyMs: 4, jobsMs: 260 }), 100)).toEqual({ encrypt: 10, decrypt: 5, verify: 1, jobs: 65, minerCompute: 25, rest: 19 })
  })

  it('floors what overlapping jobs make negative, and has nothing to say without a breakdown', () => {
    // a fused round's two jobs overlap: their sums exceed the answer's time
    expect(tokenTime(receipt({ encryptMs: 80, decryptMs: 40, verifyMs: 8, jobsMs: 290 }))).toMatchObject({ jobs: 72.5, rest: 0 })
    expect(tokenTime(receipt())).toBeUndefined()
    expect(tokenTime({ ...receipt({ encryptMs: 1, decryptMs: 1, verifyMs: 0, jobsMs: 1 }), tokens: 0 })).toBeUndefined()
  })
})
