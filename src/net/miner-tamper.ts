/**
 * TEST ONLY: a lying miner, to prove that users (Freivalds) and validators (known answers)
 * catch one. `cerberus miner --tamper=…` warns on stderr; nothing else in the product lies.
 */

/**
 * How a lying miner lies — 'flip' one bit of every result, 'zero' every result, 'stale':
 * answer each matrix with its previous result (honest the first time a matrix is asked),
 * or `{ flipAfter: N }`: honest for the first N jobs of each session, then 'flip' (a cheat
 * that hopes validators' sessions are short).
 */
export type TamperMode = 'flip' | 'zero' | 'stale' | { readonly flipAfter: number }

/** Sessions whose jobs a `flipAfter` miner counts (the oldest are forgotten). */
const MAX_COUNTED_SESSIONS = 1024

function tamperWith (mode: 'flip' | 'zero' | 'stale', results: Uint8Array[], previous: Uint8Array[] | undefined): Uint8Array[] {
  if (mode === 'stale') return previous ?? results // the matrix's previous result (the first is honest)
  return results.map(r => {
    const c = r.slice()
    if (mode === 'zero') c.fill(0, 28) // keep the header, zero the coefficients
    else c[c.length - 1] ^= 1 // one bit of a c0 coefficient
    return c
  })
}

/**
 * The liar of `mode` (undefined: an honest miner, results unchanged): given a job's
 * session, the key of what it computed (matrix, plan, range) and its honest results, the
 * results to send.
 */
export function createTamper (mode: TamperMode | undefined): (session: string, key: string, results: Uint8Array[]) => Uint8Array[] {
  if (mode === undefined) return (_session, _key, results) => results
  const lastResults = new Map<string, Uint8Array[]>()
  const served = new Map<string, number>() // jobs per session, for `flipAfter`
  const lie = (session: string): 'flip' | 'zero' | 'stale' | undefined => {
    if (typeof mode === 'string') return mode
    const n = (served.get(session) ?? 0) + 1
    served.delete(session)
    served.set(session, n)
    if (served.size > MAX_COUNTED_SESSIONS) served.delete(served.keys().next().value as string)
    return n > mode.flipAfter ? 'flip' : undefined
  }
  return (session, key, results) => {
    const how = lie(session)
    if (how === undefined) return results
    const told = tamperWith(how, results, lastResults.get(key))
    lastResults.set(key, results)
    return told
  }
}
