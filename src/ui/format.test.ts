import { describe, expect, it } from 'vitest'
import { receiptTimeLine } from './format.ts'

describe('where an answer\'s time went, as people read it', () => {
  it('says this tab\'s HE and the wait for the miners, with the round trips', () => {
    expect(receiptTimeLine({ time: { encryptMs: 300, decryptMs: 250, jobsMs: 2400 }, rounds: 480, layout: 'unfused' }))
      .toBe('encrypting and decrypting in this tab 550 ms; waiting for the miners (their compute and the network over 480 round trips) 2.4 s')
  })

  it('says when jobs overlap (the fused plan), and nothing without a breakdown', () => {
    expect(receiptTimeLine({ time: { encryptMs: 1, decryptMs: 1, jobsMs: 10 }, rounds: 1, layout: 'fused' })).toBe('encrypting and decrypting in this tab 2 ms; waiting for the miners (their compute and the network over 1 round trip) 10 ms, summed over jobs that run at once')
    expect(receiptTimeLine({ rounds: 3 })).toBeUndefined()
  })
})
