/**
 * The miner's key store on its own (no SEAL: a loader that records what it is asked):
 * sets loaded once per session and parameter set, least recently used sessions evicted
 * and released, a set for the same parameters replacing the old one, invalid sets skipped
 * with BAD_KEYS, an unknown session refused with UNKNOWN_KEYS.
 */
import { describe, expect, it } from 'vitest'
import { makePackedPlan, RING_PRESETS } from '../core/he/index.ts'
import { ERROR_CODES } from '../core/protocol/index.ts'
import { MINER_KEYS, sessionKeyStore, type KeyLoader } from './miner-keys.ts'

const plan = makePackedPlan(64, 64, RING_PRESETS.testN256ks, { nI: 64, orbitLevels: 0 })
/** A key set's bytes: its header's parameter fingerprint (bytes 8–15) is `fp`, then `tag`. */
const set = (fp: number, tag: number, valid = true): Uint8Array => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, fp, fp, fp, fp, fp, fp, fp, fp, tag, valid ? 1 : 0])

function recorder (): KeyLoader & { loaded: Array<[string, number]>, released: string[] } {
  const r = {
    loaded: [] as Array<[string, number]>,
    released: [] as string[],
    async loadKeys (id: string, _plan: unknown, keys: Uint8Array) {
      if (keys[17] !== 1) throw new Error('not valid keys')
      r.loaded.push([id, keys[16]])
    },
    async releaseKeys (id: string) { r.released.push(id) }
  }
  return r
}

describe('the miner key store', () => {
  it('loads a session\'s set on its first packed job only, and refuses a session it holds nothing for', async () => {
    const c = recorder()
    const store = sessionKeyStore(c)
    await expect(store.keyIdFor('s', plan)).rejects.toMatchObject({ code: ERROR_CODES.UNKNOWN_KEYS })
    store.take('s', set(1, 7))
    const id = await store.keyIdFor('s', plan)
    expect(await store.keyIdFor('s', plan)).toBe(id)
    expect(c.loaded).toEqual([[id, 7]])
  })

  it('evicts and releases the least recently used session beyond the bound; its user gets UNKNOWN_KEYS', async () => {
    const c = recorder()
    const counted: string[] = []
    const store = sessionKeyStore(c, { maxSessions: 2, counted: e => counted.push(e) })
    store.take('a', set(1, 1))
    store.take('b', set(1, 2))
    const a = await store.keyIdFor('a', plan) // a is now the most recently used
    store.take('c', set(1, 3)) // evicts b
    await expect(store.keyIdFor('b', plan)).rejects.toMatchObject({ code: ERROR_CODES.UNKNOWN_KEYS })
    store.take('d', set(1, 4)) // evicts a, whose loaded keys are released
    expect(c.released).toEqual([a])
    await expect(store.keyIdFor('a', plan)).rejects.toMatchObject({ code: ERROR_CODES.UNKNOWN_KEYS })
    expect(counted.filter(e => e === 'evicted')).toHaveLength(2)
    expect(MINER_KEYS.maxSessions).toBeGreaterThanOrEqual(2)
  })

  it('a set for the same parameters replaces the old one (released, loaded anew); invalid sets are skipped, and none valid is BAD_KEYS', async () => {
    const c = recorder()
    const store = sessionKeyStore(c)
    store.take('s', set(1, 1))
    const first = await store.keyIdFor('s', plan)
    store.take('s', set(1, 2))
    expect(c.released).toEqual([first])
    await store.keyIdFor('s', plan)
    expect(c.loaded.map(([, tag]) => tag)).toEqual([1, 2])
    store.take('t', set(2, 3, false))
    await expect(store.keyIdFor('t', plan)).rejects.toMatchObject({ code: ERROR_CODES.BAD_KEYS })
    store.take('t', set(3, 4)) // another parameter fingerprint: kept beside the invalid one
    await store.keyIdFor('t', plan)
    expect(c.loaded.at(-1)?.[1]).toBe(4)
    await expect(sessionKeyStore({}).keyIdFor('x', plan)).rejects.toMatchObject({ code: ERROR_CODES.UNKNOWN_KEYS })
    const none = sessionKeyStore({})
    none.take('x', set(1, 1))
    await expect(none.keyIdFor('x', plan)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })
})
