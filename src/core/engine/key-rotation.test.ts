/**
 * Fresh keys after any rejected result (issue 16), with real SEAL and the real stories260K:
 * a cheat behind many fresh identities flips a bit of every result it returns; it never
 * receives a job under a key that one of its rejected results tested, every rejection is one
 * rotation, and the text stays exactly the twin's — for coefficient inputs (keys told apart by
 * the session's epoch) and packed ones (by the key-set id the inputs carry on the wire).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cheatingMesh, epochTagged, packedKeyId, type KeyOf } from '../../test/cheat-link.ts'
import { stories260K } from '../../test/fixtures.ts'
import { HeKeysRotatedError, loadSeal, type Seal } from '../he/index.ts'
import { NETWORKS } from '../he/planner.ts'
import { parseCheckpoint } from '../model/checkpoint.ts'
import { createRng } from '../model/rng.ts'
import { createSampler } from '../model/sampler.ts'
import { parseTokenizer } from '../model/tokenizer.ts'
import { squeezeModel, type SqueezedModel } from '../squeeze/squeeze.ts'
import type { LinearBackend } from './backend.ts'
import { generateAsync, privateEngine, type AsyncLogitsEngine } from './engine.ts'
import { heBackend, type HeSession } from './he-backend.ts'
import { localHe } from './he-local.ts'
import { KeyRotationError } from './key-rotation.ts'
import { squeezedW8a8Backend } from './plain-backend.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, ckpt.config.vocabSize)
let seal: Seal
const closers: LinearBackend[] = []
beforeAll(async () => { seal = await loadSeal() })
afterAll(async () => { for (const b of closers) await b.close?.() })

async function tokens (engine: AsyncLogitsEngine, prompt: string, steps: number): Promise<number[]> {
  const out: number[] = []
  for await (const t of generateAsync(engine, tok, createSampler({ temperature: 1, topp: 0.9 }, createRng(7)), { prompt, steps })) out.push(t.token)
  return out
}

async function underCheat (sq: SqueezedModel, keyOfScheme: 'epoch' | 'wire', steps: number): Promise<void> {
  const local = localHe(seal)
  const tagged = epochTagged(local.session)
  const keyOf: KeyOf = keyOfScheme === 'wire' ? packedKeyId : tagged.keyOf
  const mesh = cheatingMesh(local.miner, { every: 5, keyOf })
  const backend = await heBackend(sq, tagged.session, mesh, { maxAttempts: 3 })
  closers.push(backend)
  const prompt = 'Lily found a shiny stone'
  const twin = await tokens(privateEngine(sq.params, squeezedW8a8Backend(sq)), prompt, steps)
  expect(await tokens(privateEngine(sq.params, backend), prompt, steps)).toEqual(twin)
  const { log } = mesh
  expect(log.rejected.length).toBeGreaterThan(10)
  expect(log.identities).toBe(log.rejected.length + 1) // a fresh peer id after every drop
  expect(log.honestRejected).toEqual([])
  // the spine: no key ever met the cheat again after one of its results under it was rejected
  expect(log.violations).toEqual([])
  // every rejection tested a different key, and each made exactly one rotation
  expect(new Set(log.rejected.map(r => r.key)).size).toBe(log.rejected.length)
  expect(backend.stats.rejected).toBe(log.rejected.length)
  expect(backend.stats.keyRotations).toBe(backend.stats.rejected)
  // keys did change on the wire (or in the session) as many times
  expect(new Set(log.received.map(r => r.key)).size).toBeGreaterThanOrEqual(log.rejected.length)
}

describe('key rotation after rejected results', () => {
  it('coefficient inputs: a cheat under fresh identities never sees a key twice after a rejection; the text is the twin\'s', async () => {
    const sq = squeezeModel(ckpt, { network: NETWORKS.loopback, scheme: 'coeff' })
    await underCheat(sq, 'epoch', 24)
  })

  it('packed inputs: the key-set id on the wire changes at every rejection; new Galois keys reach the miner; the text is the twin\'s', async () => {
    // one vector per job (no batched prefill): the cheat's every-5th job meets enough keys in 10
    // steps (a rejection inside a batched job is tested in rounds.test.ts)
    const sq = squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused', scheme: 'packed', prefill: false })
    expect([...sq.groups.values()].filter(g => g.placement === 'encrypted').every(g => g.plans.every(p => p?.scheme === 'packed'))).toBe(true)
    await underCheat(sq, 'wire', 10)
  })

  it('localHe: results of an older epoch are refused with HeKeysRotatedError; fresh keys differ', async () => {
    const sq = squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused', scheme: 'packed' })
    const plan = sq.groups.get('o:0')?.plans[0]
    if (plan === undefined) throw new Error('no plan')
    const { session, miner } = localHe(seal)
    const before = await session.encrypt(plan, new Int8Array(plan.dIn).fill(3))
    const keys0 = await (session.galoisKeys as NonNullable<HeSession['galoisKeys']>)(plan)
    await miner.setKeys?.(plan, keys0)
    await miner.prepare('o:0:0', plan, sq.groups.get('o:0')?.matrices[0].q as Int8Array)
    const results = (await miner.compute('o:0:0', before.ciphertexts, 'j')).results
    await (session.rotate as NonNullable<HeSession['rotate']>)()
    await expect(session.decrypt(plan, results, before.epoch)).rejects.toBeInstanceOf(HeKeysRotatedError)
    const after = await session.encrypt(plan, new Int8Array(plan.dIn).fill(3))
    expect(after.epoch).not.toBe(before.epoch)
    expect(packedKeyId(after.ciphertexts)).not.toBe(packedKeyId(before.ciphertexts))
    expect(await (session.galoisKeys as NonNullable<HeSession['galoisKeys']>)(plan)).not.toEqual(keys0)
    session.close?.()
    miner.close?.()
  })

  it('a session that cannot rotate: after a rejection nothing more is encrypted (typed error)', async () => {
    const sq = squeezeModel(ckpt, { network: NETWORKS.loopback, scheme: 'coeff' })
    const local = localHe(seal)
    let encrypted = 0
    let rejectedAt = -1
    const session: HeSession = { // no rotate
      async encrypt (plan, x) { encrypted++; return await local.session.encrypt(plan, x) },
      decrypt: local.session.decrypt
    }
    const mesh = cheatingMesh(local.miner, { every: 3, keyOf: () => 'one key' })
    const backend = await heBackend(sq, session, mesh, { maxAttempts: 3, onRejected: () => { rejectedAt = encrypted } })
    closers.push(backend)
    await expect(tokens(privateEngine(sq.params, backend), '', 4)).rejects.toBeInstanceOf(KeyRotationError)
    expect(rejectedAt).toBeGreaterThan(0)
    // jobs already encrypted may finish; none is encrypted after the rejection was seen
    expect(encrypted).toBe(rejectedAt)
  })
})
