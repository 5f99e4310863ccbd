import { describe, expect, it } from 'vitest'
import { minerStandings, STANDING_LIMITS, unscoredShare, validatorWeights, verdictOf, type ScoreClaim } from './standing.ts'

const pass = (validatorId: string, minerId: string, p50Ms = 20): ScoreClaim => ({ validatorId, minerId, jobs: 50, passed: 50, failed: 0, p50Ms })
const fail = (validatorId: string, minerId: string): ScoreClaim => ({ validatorId, minerId, jobs: 50, passed: 10, failed: 3, p50Ms: 30 })
const silent = (validatorId: string, minerId: string): ScoreClaim => ({ validatorId, minerId, jobs: 5, passed: 0, failed: 0, p50Ms: 0 })
const none = { caught: new Set<string>() }

describe('standing (weighted median over validators)', () => {
  it('verdicts: one wrong result fails, right ones pass, no answer says nothing', () => {
    expect(verdictOf({ passed: 1000, failed: 1 })).toBe('fail')
    expect(verdictOf({ passed: 1, failed: 0 })).toBe('pass')
    expect(verdictOf({ passed: 0, failed: 0 })).toBe('none')
  })

  it('a lying minority can neither lift a cheat nor sink an honest miner, and loses weight', () => {
    const claims = [
      pass('v1', 'honest'), pass('v2', 'honest'), fail('liar', 'honest'),
      fail('v1', 'cheat'), fail('v2', 'cheat'), pass('liar', 'cheat')
    ]
    const { standings, weights } = minerStandings(claims, none)
    expect(standings.get('honest')).toMatchObject({ status: 'trusted', vouches: 2, against: 1, validators: 3 })
    expect(standings.get('cheat')).toMatchObject({ status: 'failed', vouches: 1, against: 2 })
    expect(weights.get('v1')).toBe(1)
    expect(weights.get('v2')).toBe(1)
    expect(weights.get('liar')).toBe(STANDING_LIMITS.decay ** 2) // contradicted on both miners
  })

  it('an even split is disputed (unscored); no record, or no answer, is unscored with its reason', () => {
    const { standings } = minerStandings([pass('v1', 'm'), fail('v2', 'm'), silent('v1', 'quiet')], none)
    expect(standings.get('m')).toMatchObject({ status: 'unscored', reason: expect.stringMatching(/disagree/) })
    expect(standings.get('quiet')).toMatchObject({ status: 'unscored', reason: expect.stringMatching(/no answer/) })
    expect(standings.has('never-seen')).toBe(false)
  })

  it('the user\'s own rejection fails a miner whatever validators say, and costs those who vouched for it twice', () => {
    const claims = [pass('v1', 'cheat'), pass('v2', 'cheat'), fail('v3', 'cheat'), pass('v1', 'other'), pass('v3', 'other')]
    const caught = { caught: new Set(['cheat']) }
    const { standings, weights } = minerStandings(claims, caught)
    expect(standings.get('cheat')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/your own/) })
    expect(weights.get('v1')).toBe(0.25)
    expect(weights.get('v2')).toBe(0.25)
    expect(weights.get('v3')).toBe(1) // it said so: no penalty though the others disagreed
    // a fooled validator that reports the cheat failed afterwards regains its weight
    expect(validatorWeights([fail('v1', 'cheat'), pass('v2', 'cheat'), fail('v3', 'cheat')], caught).get('v1')).toBe(1)
  })

  it('validators below the weight floor are not counted: a liar proven wrong twice cannot tip a tie', () => {
    const caught = { caught: new Set(['c1', 'c2']) }
    const claims = [pass('liar', 'c1'), pass('liar', 'c2'), pass('liar', 'm'), fail('honest', 'm')]
    const { standings, weights } = minerStandings(claims, caught)
    expect(weights.get('liar')).toBeLessThan(STANDING_LIMITS.weightFloor)
    expect(standings.get('m')).toMatchObject({ status: 'failed', vouches: 0, against: 1 })
  })

  it('the median latency over validators', () => {
    const { standings } = minerStandings([pass('a', 'm', 10), pass('b', 'm', 50), pass('c', 'm', 30)], none)
    expect(standings.get('m')?.p50Ms).toBe(30)
  })

  it('unscored share: all jobs with no trusted miner (no validators on the mesh), then at most 1/(trusted + 1), never above a quarter', () => {
    expect(unscoredShare(0)).toBe(1)
    expect(unscoredShare(1)).toBe(0.25)
    expect(unscoredShare(3)).toBe(0.25)
    expect(unscoredShare(9)).toBeCloseTo(0.1)
  })
})
