/**
 * The validator role without a browser: a real relay, real miner nodes on loopback
 * WebSockets (one of them lying), real SEAL in-thread, the real stories260K model; the
 * validator's exact checks, its signed records on the mesh, and a user's standings.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { localHe } from '../core/engine/index.ts'
import { loadSeal, type Seal } from '../core/he/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import type { TamperMode } from '../net/miner-tamper.ts'
import { createPeer } from '../net/peer.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { createMinerPool, type MinerPool } from '../workers/index.ts'
import { knownAnswerCheck, type MinerTally } from './known-answer.ts'
import { joinMesh, type MeshMember } from './mesh-member.ts'
import { createMinerLinks, untilMinersReady } from './miner-links.ts'
import { startMinerNode, type MinerNode } from './miner-node.ts'
import type { LoadedModel } from './model-source.ts'
import { createPrivateGeneration } from './private-generation.ts'
import { USER_MIX, type UserMix } from './user-mix.ts'
import { startValidator, type Validator, type ValidatorEvent, type ValidatorOptions } from './validator.ts'

const cleanup: Array<() => Promise<void> | void> = []
let relay: Relay
let model: LoadedModel
let seal: Seal

/**
 * Short visits, so that a test on two loaded cores sees several epochs: a prompt of at most
 * two words, 1–3 tokens, 1–2 answers, 0.1–0.3 s to "think" (~20 ms a job here).
 */
const QUICK: UserMix = { ...USER_MIX, prompts: ['', 'Once', 'Tom had', 'A dog'], defaultShare: 0, tokens: [1, 3], answers: [1, 2], thinkMs: 200 }

async function until (cond: () => boolean, ms: number, what: string, state?: () => unknown): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms${state === undefined ? '' : `: ${JSON.stringify(state())}`}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

async function miner (tamper?: TamperMode): Promise<MinerNode> {
  const privateKey = await generateKeyPair('Ed25519')
  const peer = await createPeer({ listenPort: 0, privateKey })
  const pool: MinerPool = createMinerPool({ spawn: inThreadPort, size: 1 })
  const node = await startMinerNode({ model: { name: model.name, sha256: model.sha256, squeezed: squeezeModel(model.ckpt) }, privateKey, relays: [multiaddr(relay.multiaddrs[0])], capacity: 1, addrs: () => peer.getMultiaddrs().map(String), announceIntervalMs: 500, tamper }, { peer, compute: pool })
  cleanup.push(async () => { await node.stop(); await peer.stop(); pool.close() })
  return node
}

async function validator (extra: Partial<ValidatorOptions> = {}, events: ValidatorEvent[] = [], key?: PrivateKey): Promise<Validator> {
  const privateKey = key ?? await generateKeyPair('Ed25519')
  const peer = await createPeer({ privateKey })
  const v: Validator = await startValidator({ model, privateKey, relays: [multiaddr(relay.multiaddrs[0])], mix: QUICK, publishIntervalMs: 1000, findMinersMs: 10_000, onEvent: e => events.push(e), ...extra }, {
    peer,
    createPeer: async key => await createPeer({ privateKey: key }),
    newSession: () => { const l = localHe(seal); l.miner.close?.(); return l.session }
  })
  const stop = async (): Promise<void> => { await v.stop(); await peer.stop() }
  cleanup.push(stop)
  stops.set(v, stop)
  return v
}

/** Stops a validator and its peer (so that the same identity can come back on another peer). */
const stops = new Map<Validator, () => Promise<void>>()

async function user (): Promise<MeshMember> {
  const privateKey = await generateKeyPair('Ed25519')
  const peer = await createPeer({ privateKey })
  const m = joinMesh(peer, { privateKey, relays: [multiaddr(relay.multiaddrs[0])] })
  cleanup.push(async () => { m.leave(); await peer.stop() })
  return m
}

beforeAll(async () => {
  relay = await startRelay({ port: 0, healthPort: 0 })
  model = await loadModelFiles()
  seal = await loadSeal()
})

// every test stops what it started: a validator left running would load the next test's cores
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c() })
afterAll(async () => { await relay.stop() })

describe('the exact check (known answers)', () => {
  it('keeps every optional capability of the session and the miners it wraps (Galois keys, rotation, local matvecs, rejection, close)', () => {
    const sq = squeezeModel(model.ckpt)
    const none = async (): Promise<never> => await Promise.reject(new Error('not called'))
    const wrapped = knownAnswerCheck(sq, {
      session: { encrypt: none, decrypt: none, galoisKeys: none, rotate: none, localMatvecs: none, close: () => {} },
      miners: { name: 'm', prepare: none, compute: none, reject: () => {}, setKeys: none, close: () => {} }
    }, new Map())
    expect(Object.keys(wrapped.session).sort()).toEqual(['close', 'decrypt', 'encrypt', 'galoisKeys', 'localMatvecs', 'rotate'])
    expect(Object.keys(wrapped.miners).sort()).toEqual(['close', 'compute', 'name', 'prepare', 'reject', 'setKeys'])
  })

  it('credits every right result to the miner that answered it, and a wrong one as failed', async () => {
    const honest = await miner()
    const liar = await miner('flip')
    const m = await user()
    const links = createMinerLinks(m, { session: 'known-answer-test', modelSha256: model.sha256, standings: false })
    cleanup.push(() => { links.stop() })
    await until(() => links.ready === 2, 10_000, 'both miners')
    const tally = new Map<string, MinerTally>()
    const local = localHe(seal)
    const gen = await createPrivateGeneration(model, knownAnswerCheck(squeezeModel(model.ckpt), { session: local.session, miners: links.scheduler }, tally), { maxAttempts: 3 })
    const r = await gen.generate('Once upon a time', { temperature: 0, topp: 0.9, maxTokens: 4 })
    const verifiedJobs = gen.stats.verifiedJobs // the prompt's padded batch is one job of several vectors
    await gen.close()
    local.miner.close?.()
    expect(r.rejected).toBeGreaterThan(0) // the user's Freivalds check saw the lie as well
    expect(tally.get(liar.peerId)).toMatchObject({ passed: 0 })
    expect(tally.get(liar.peerId)?.failed).toBeGreaterThan(0)
    expect(tally.get(honest.peerId)?.failed).toBe(0)
    // every verified job was checked exactly, and passed
    expect(r.verified).toBeGreaterThanOrEqual(verifiedJobs)
    expect(tally.get(honest.peerId)?.passed).toBe(verifiedJobs)
    await honest.stop()
    await liar.stop()
  })
})

describe('a validator on the mesh', () => {
  it('marks a lying miner failed and an honest one trusted in a user\'s standings; a lying validator is outvoted and loses weight', async () => {
    const honest = await miner()
    const cheat = await miner('flip')
    const events: ValidatorEvent[] = []
    const v1 = await validator({}, events)
    const e2: ValidatorEvent[] = []
    const e3: ValidatorEvent[] = []
    const v2 = await validator({}, e2)
    const liar = await validator({ lie: true }, e3)
    const m = await user()
    const links = createMinerLinks(m, { session: 'user-1', modelSha256: model.sha256 })
    cleanup.push(() => { links.stop() })
    await until(() => links.standing(cheat.peerId).status === 'failed' && links.standing(honest.peerId).status === 'trusted' && links.standing(honest.peerId).vouches === 3, 60_000, 'the standings', () => ({ cheat: links.standing(cheat.peerId), honest: links.standing(honest.peerId), events: events.slice(-3), e2: e2.slice(-3), e3: e3.slice(-3), book: m.scores.stats }))
    expect(links.standing(cheat.peerId)).toMatchObject({ status: 'failed', against: 2, validators: 3 })
    expect(links.standing(honest.peerId)).toMatchObject({ status: 'trusted', vouches: 3, failed: 0 })
    const weights = links.validatorWeights()
    expect(weights.get(v1.peerId)).toBe(1)
    expect(weights.get(v2.peerId)).toBe(1)
    expect(weights.get(liar.peerId)).toBeLessThan(1)
    // the validator's jobs went out under a fresh identity per epoch, announced as a user
    const epochs = events.filter(e => e.type === 'epoch')
    expect(new Set(epochs.map(e => e.peerId)).size).toBe(epochs.length)
    expect(epochs.every(e => e.peerId !== v1.peerId)).toBe(true)
    // the cheat gets no job from a user, who still generates (the validators stop first, to
    // leave her the CPU; their records stay in the books until they age out)
    await Promise.all([v1.stop(), v2.stop(), liar.stop()])
    expect(await untilMinersReady(m, links, { timeoutMs: 5000 })).toBe(true)
    const local = localHe(seal)
    const gen = await createPrivateGeneration(model, { session: local.session, miners: links.scheduler })
    const r = await gen.generate('', { temperature: 0, topp: 0.9, maxTokens: 8 })
    await gen.close()
    local.miner.close?.()
    expect(r.rejected).toBe(0)
    expect(r.miners.map(x => x.peerId)).toContain(honest.peerId)
    expect(r.miners.map(x => x.peerId)).not.toContain(cheat.peerId)
  })

  it('a cheat honest for its first jobs of each session: validators\' short visits pass it, the user\'s Freivalds check catches it in her long session, and the validator\'s next, longer visit marks it failed', async () => {
    const honest = await miner()
    const cheat = await miner({ flipAfter: 20 }) // a visit of one 1-token answer has 20 jobs: it never lies there
    const m = await user()
    await until(() => m.table.list().filter(e => e.role === 'miner' && !e.peerId.startsWith('x')).length >= 2, 10_000, 'both miners announced')
    const key = await generateKeyPair('Ed25519')
    const short: UserMix = { ...QUICK, prompts: [''], tokens: [1, 1], answers: [1, 1] }
    const v = await validator({ mix: short }, [], key)
    const links = createMinerLinks(m, { session: 'user-long', modelSha256: model.sha256 })
    cleanup.push(() => { links.stop() })
    await until(() => links.standing(cheat.peerId).status === 'trusted' && links.standing(honest.peerId).status === 'trusted', 30_000, 'both miners trusted after short visits', () => ({ cheat: links.standing(cheat.peerId), honest: links.standing(honest.peerId) }))
    await stops.get(v)?.() // the validator goes quiet (its records stay in the books for a while)

    // the user's session is long: the cheat gets more than 16 of her jobs and lies; she catches it
    const local = localHe(seal)
    const gen = await createPrivateGeneration(model, { session: local.session, miners: links.scheduler }, { maxAttempts: 3 })
    const r = await gen.generate('', { temperature: 0, topp: 0.9, maxTokens: 6 })
    await gen.close()
    local.miner.close?.()
    expect(r.rejected).toBeGreaterThan(0)
    expect(r.tokens).toBe(6)
    expect(links.dropped.get(cheat.peerId)).toBe('rejected')
    expect(links.standing(cheat.peerId)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/your own/) })
    expect(links.validatorWeights().get(v.peerId)).toBeLessThan(1) // it vouched for a proven liar

    // the same validator (same identity) comes back; its next visit is as long as hers (4 answers
    // of 2 tokens: 160 jobs): it catches the cheat
    const events: ValidatorEvent[] = []
    await validator({ mix: { ...short, tokens: [2, 2], answers: [4, 4] } }, events, key)
    const fresh = await user() // a newcomer, who knows only what validators say
    const theirs = createMinerLinks(fresh, { session: 'newcomer', modelSha256: model.sha256 })
    cleanup.push(() => { theirs.stop() })
    await until(() => theirs.standing(cheat.peerId).status === 'failed', 30_000, 'the cheat failed by the validator', () => ({ cheat: theirs.standing(cheat.peerId), events: events.slice(-4) }))
    expect(events.some(e => e.type === 'answer' && e.wrong.includes(cheat.peerId))).toBe(true)
    // and the first user's weight for the validator comes back once it says so
    await until(() => links.validatorWeights().get(v.peerId) === 1, 10_000, 'the validator\'s weight restored')
  })
})
