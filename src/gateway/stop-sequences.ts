/**
 * Stop sequences (`stop`): the answer ends where the first of them begins, and that
 * sequence and everything after it are never sent. Text arrives as deltas; a delta's tail
 * that could be the start of a stop sequence is held back until the next delta settles it,
 * so a streamed answer equals the non-streamed one, chunk boundaries aside.
 */

/** Follows an answer's text and says what may be sent. */
export interface StopMatcher {
  /** Add a delta; returns the text that may be sent now ('' when it is all held back or the answer already stopped). */
  push: (delta: string) => string
  /** At the end of the answer: whatever was held back (it was no stop sequence). */
  flush: () => string
  /** True once a stop sequence appeared: generation should end. */
  readonly stopped: boolean
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `stops`. */
function heldLength (text: string, stops: readonly string[]): number {
  let best = 0
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > best; k--) {
      if (text.endsWith(s.slice(0, k))) { best = k; break }
    }
  }
  return best
}

/** A matcher for `stops` (none: everything passes at once). */
export function stopMatcher (stops: readonly string[]): StopMatcher {
  let pending = ''
  let stopped = false
  return {
    push (delta) {
      if (stopped) return ''
      pending += delta
      let cut = -1
      for (const s of stops) {
        const i = pending.indexOf(s)
        if (i >= 0 && (cut < 0 || i < cut)) cut = i
      }
      if (cut >= 0) {
        stopped = true
        const out = pending.slice(0, cut)
        pending = ''
        return out
      }
      const keep = heldLength(pending, stops)
      const out = pending.slice(0, pending.length - keep)
      pending = pending.slice(pending.length - keep)
      return out
    },
    flush () {
      const out = stopped ? '' : pending
      pending = ''
      return out
    },
    get stopped () { return stopped }
  }
}
