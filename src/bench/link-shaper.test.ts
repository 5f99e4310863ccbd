import { describe, expect, it } from 'vitest'
import { createLinkShaper, LinkClosedError, LinkSpecError, MAX_ONE_WAY_MS, type LinkClock } from './link-shaper.ts'
import { directionSpec, LINK_PROFILES, linkProfile, LinkNameError } from './link-profiles.ts'

/** A clock the test moves by hand: timers fire in due order as time passes. */
function manualClock (): LinkClock & { advance: (ms: number) => void, timers: number } {
  let now = 0
  let seq = 0
  const timers = new Map<number, { at: number, fn: () => void }>()
  return {
    now: () => now,
    setTimeout: (fn, ms) => { timers.set(++seq, { at: now + ms, fn }); return seq },
    clearTimeout: h => { timers.delete(h as number) },
    get timers () { return timers.size },
    advance (ms) {
      const end = now + ms
      for (;;) {
        const next = [...timers].sort((a, b) => a[1].at - b[1].at)[0]
        if (next === undefined || next[1].at > end) break
        timers.delete(next[0])
        now = Math.max(now, next[1].at)
        next[1].fn()
      }
      now = end
    }
  }
}

describe('link shaper', () => {
  it('delivers after serialization at the rate plus the one-way delay, in send order', () => {
    const clock = manualClock()
    // 8 kbit/s: one byte per ms, so arrival times are whole milliseconds
    const link = createLinkShaper({ oneWayMs: 25, bitsPerSecond: 8000 }, { clock })
    const arrived: Array<[string, number]> = []
    link.send(100, () => { arrived.push(['a', clock.now()]) })
    link.send(50, () => { arrived.push(['b', clock.now()]) })
    link.send(0, () => { arrived.push(['end', clock.now()]) })
    expect(link.pending).toBe(3)
    clock.advance(124)
    expect(arrived).toEqual([])
    clock.advance(1)
    expect(arrived).toEqual([['a', 125]])
    clock.advance(1000)
    // b waits for a to leave (100 ms), takes 50 ms, then 25 ms of flight; the end mark takes no time on the wire
    expect(arrived).toEqual([['a', 125], ['b', 175], ['end', 175]])
    expect(link.pending).toBe(0)
    expect(clock.timers).toBe(0)
  })

  it('an idle link starts the next send at once (departures do not accumulate idle time)', () => {
    const clock = manualClock()
    const link = createLinkShaper({ oneWayMs: 10, bitsPerSecond: 8000 }, { clock })
    const at: number[] = []
    link.send(10, () => { at.push(clock.now()) })
    clock.advance(500)
    link.send(10, () => { at.push(clock.now()) })
    clock.advance(500)
    expect(at).toEqual([20, 520])
  })

  it('a deliver callback that sends again keeps one timer and the order', () => {
    const clock = manualClock()
    const link = createLinkShaper({ oneWayMs: 5, bitsPerSecond: 8e6 }, { clock })
    const order: number[] = []
    link.send(0, () => {
      order.push(1)
      link.send(0, () => { order.push(3) })
    })
    link.send(0, () => { order.push(2) })
    clock.advance(5)
    expect(clock.timers).toBe(1)
    clock.advance(5)
    expect(order).toEqual([1, 2, 3])
    expect(clock.timers).toBe(0)
  })

  it('a throwing callback is reported and does not stall the queue', () => {
    const clock = manualClock()
    const errors: unknown[] = []
    const link = createLinkShaper({ oneWayMs: 1, bitsPerSecond: 8000 }, { clock, onError: e => { errors.push(e) } })
    const got: number[] = []
    link.send(1, () => { throw new Error('boom') })
    link.send(1, () => { got.push(2) })
    clock.advance(10)
    expect(errors).toHaveLength(1)
    expect(got).toEqual([2])
  })

  it('close drops what is in flight, stops the timer and refuses sends', () => {
    const clock = manualClock()
    const link = createLinkShaper({ oneWayMs: 10, bitsPerSecond: 8000 }, { clock })
    let delivered = false
    link.send(10, () => { delivered = true })
    link.close()
    clock.advance(1000)
    expect(delivered).toBe(false)
    expect(clock.timers).toBe(0)
    expect(() => { link.send(1, () => {}) }).toThrow(LinkClosedError)
  })

  it('refuses specs out of bounds and sizes that are not byte counts', () => {
    expect(() => createLinkShaper({ oneWayMs: -1, bitsPerSecond: 1e6 })).toThrow(LinkSpecError)
    expect(() => createLinkShaper({ oneWayMs: MAX_ONE_WAY_MS + 1, bitsPerSecond: 1e6 })).toThrow(LinkSpecError)
    expect(() => createLinkShaper({ oneWayMs: 1, bitsPerSecond: 0 })).toThrow(LinkSpecError)
    expect(() => createLinkShaper({ oneWayMs: 1, bitsPerSecond: Number.NaN })).toThrow(LinkSpecError)
    const link = createLinkShaper({ oneWayMs: 1, bitsPerSecond: 1e6 }, { clock: manualClock() })
    expect(() => { link.send(1.5, () => {}) }).toThrow(RangeError)
    expect(() => { link.send(-1, () => {}) }).toThrow(RangeError)
  })

  it('on real timers a delivery is never early (lower bound only: the box may be loaded)', async () => {
    const link = createLinkShaper({ oneWayMs: 20, bitsPerSecond: 8e6 }) // 1 byte per µs
    const t0 = performance.now()
    const arrived = await Promise.all([0, 1, 2].map(async i => await new Promise<number>(resolve => { link.send(10_000, () => { resolve(performance.now() - t0) }) }).then(ms => [i, ms] as const)))
    // the k-th 10 kB send leaves after k × 10 ms of serialization, then flies 20 ms
    for (const [i, ms] of arrived) expect(ms).toBeGreaterThanOrEqual(20 + 10 * (i + 1) - 0.5)
    expect(arrived.map(([i]) => i)).toEqual([0, 1, 2])
  })
})

describe('link profiles', () => {
  it('are the issue\'s: lan 1 ms at 1 Gbit/s, wan 50 ms at 50 Mbit/s, loopback unshaped', () => {
    expect(LINK_PROFILES.lan.shape).toEqual({ rttMs: 1, bitsPerSecond: 1e9 })
    expect(LINK_PROFILES.wan.shape).toEqual({ rttMs: 50, bitsPerSecond: 50e6 })
    expect(LINK_PROFILES.loopback.shape).toBeUndefined()
    expect(directionSpec(LINK_PROFILES.wan)).toEqual({ oneWayMs: 25, bitsPerSecond: 50e6 })
    expect(directionSpec(LINK_PROFILES.loopback)).toBeUndefined()
    // the planner is told the same link, in its units (bytes per second)
    expect(LINK_PROFILES.wan.network).toMatchObject({ rttMs: 50, bandwidth: 6.25e6 })
    expect(LINK_PROFILES.lan.network).toMatchObject({ rttMs: 1, bandwidth: 1.25e8 })
    expect(linkProfile('wan')).toBe(LINK_PROFILES.wan)
    expect(() => linkProfile('satellite')).toThrow(LinkNameError)
  })
})
