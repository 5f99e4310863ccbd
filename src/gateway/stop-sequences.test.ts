import { describe, expect, it } from 'vitest'
import { stopMatcher } from './stop-sequences.ts'

/** Feed `pieces`, returning what was sent and whether it stopped. */
function run (stops: string[], pieces: string[]): { sent: string[], stopped: boolean } {
  const m = stopMatcher(stops)
  const sent: string[] = []
  for (const p of pieces) {
    sent.push(m.push(p))
    if (m.stopped) break
  }
  sent.push(m.flush())
  return { sent: sent.filter(s => s !== ''), stopped: m.stopped }
}

describe('stop sequences', () => {
  it('pass everything at once without stops', () => {
    expect(run([], ['Once', ' upon'])).toEqual({ sent: ['Once', ' upon'], stopped: false })
  })

  it('cut where the first sequence begins, across deltas, never sending any part of it', () => {
    const r = run(['. The', 'zz'], ['She was happy', '.', ' Th', 'e end'])
    expect(r).toEqual({ sent: ['She was happy'], stopped: true })
  })

  it('release held-back text when it turns out not to be a stop', () => {
    expect(run(['END'], ['the E', 'ND'])).toEqual({ sent: ['the '], stopped: true })
    expect(run(['END'], ['the E', 'nd'])).toEqual({ sent: ['the ', 'End'], stopped: false })
    expect(run(['END'], ['the EN'])).toEqual({ sent: ['the ', 'EN'], stopped: false })
  })

  it('the earliest of several sequences wins, even when a longer one started first', () => {
    expect(run(['abcd', 'bc'], ['xabc'])).toEqual({ sent: ['xa'], stopped: true })
  })
})
