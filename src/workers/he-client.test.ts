import { readFileSync } from 'node:fs'
import type { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { RING_PRESETS } from '../core/he/index.ts'
import { makePlan, planToData } from '../core/he/index.ts'
import { planMatvec } from '../core/he/index.ts'
import { prng, randomInt8 } from '../test/fixtures.ts'
import { matvecInt8 } from '../core/model/w8a8.ts'
import { spawnNodeHeWorker } from './he-port.node.ts'
import { createHeMinerClient, createHeUserClient, squeezeInWorker, type HePort } from './he-client.ts'
import { inThreadPort } from './he-port.in-thread.ts'
import type { HeReply } from './he-protocol.ts'
import { createHeService, isFatal } from './he-service.ts'
import { splitBlocks } from '../core/he/index.ts'
import { createMinerPool } from './he-pool.ts'
import { generateAsync, heBackend, localHe, privateEngine, squeezedEngine } from '../core/engine/index.ts'
import { loadSeal, NETWORKS } from '../core/he/index.ts'
import { createEngine, createRng, createSampler, encode, generate, parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { planMemoKey, squeezeModel } from '../core/squeeze/index.ts'
import { stories260K } from '../test/fixtures.ts'

const rand = prng(21)
function job (dOut: number, dIn: number): { w: Int8Array, x: Int8Array, y: Int32Array } {
  const w = randomInt8(dOut * dIn, rand)
  const x = randomInt8(dIn, rand)
  const y = new Int32Array(dOut)
  matvecInt8(w, dOut, dIn, x, y)
  return { w, x, y }
}

const closers: Array<() => void> = []
afterAll(() => { for (const c of closers) c() })

describe('HE clients in-thread (the same protocol without a worker)', () => {
  it('encrypt → compute → decrypt is exact, and errors keep their type across the boundary', async () => {
    const plan = makePlan(50, 30, RING_PRESETS.testN256, 10)
    const { w, x, y } = job(50, 30)
    const user = createHeUserClient({ spawn: inThreadPort })
    const miner = createHeMinerClient({ spawn: inThreadPort })
    closers.push(user.close, miner.close)
    await miner.prepare('m', plan, w)
    const { ciphertexts, epoch } = await user.encrypt(plan, x.slice())
    const broken = ciphertexts.map(c => c.slice())
    broken[0][0] = 0
    await expect(miner.compute('m', broken)).rejects.toMatchObject({ name: 'HeWireError', code: 'HE_WIRE' })
    expect(await user.decrypt(plan, await miner.compute('m', ciphertexts), epoch)).toEqual(y)
    await expect(miner.compute('nope', [])).rejects.toMatchObject({ name: 'WorkerProtocolError', message: 'no matrix "nope" is prepared in this worker' })
  })

  it('a worker keeps its role: a miner cannot encrypt, a user cannot prepare', async () => {
    const replies: HeReply[] = []
    const miner = createHeService({ post: r => replies.push(r) })
    await miner.handle({ type: 'init', id: 1, role: 'miner' })
    await miner.handle({ type: 'encrypt', id: 2, plan: { dOut: 2, dIn: 2, preset: 'insecure-n256', nI: 2 }, x: new Int8Array(2) })
    const user = createHeService({ post: r => replies.push(r) })
    await user.handle({ type: 'init', id: 3, role: 'user' })
    await user.handle({ type: 'prepare', id: 4, matrixId: 'm', plan: { dOut: 2, dIn: 2, preset: 'insecure-n256', nI: 2 }, w: new Int8Array(4), blocks: [0, 1] })
    await user.handle({ type: 'init', id: 5, role: 'miner' })
    // a planner starts no SEAL (no loader is called) and holds no key: it only squeezes
    const planner = createHeService({ post: r => replies.push(r), loadSeal: async () => { throw new Error('a planner must not start SEAL') } })
    await planner.handle({ type: 'init', id: 6, role: 'planner' })
    await planner.handle({ type: 'encrypt', id: 7, plan: { dOut: 2, dIn: 2, preset: 'insecure-n256', nI: 2 }, x: new Int8Array(2) })
    await planner.handle({ type: 'rotate', id: 8 })
    expect(replies.map(r => r.type === 'error' ? r.error.message : r.type)).toEqual([
      'ready',
      '"encrypt" is a user request, but this worker is a miner worker',
      'ready',
      '"prepare" is a miner request, but this worker is a user worker',
      'this worker is already a user worker',
      'ready',
      '"encrypt" is a user request, but this worker is a planner worker',
      '"rotate" is a user request, but this worker is a planner worker'
    ])
  })

  it('no message carries a key: every reply of a user session has only its declared fields', async () => {
    const replies: HeReply[] = []
    const svc = createHeService({ post: r => replies.push(r) })
    const plan = { dOut: 20, dIn: 20, preset: 'insecure-n256', nI: 10 }
    await svc.handle({ type: 'init', id: 1, role: 'user' })
    await svc.handle({ type: 'encrypt', id: 2, plan, x: new Int8Array(20).fill(5) })
    await svc.handle({ type: 'decrypt', id: 3, plan, results: [] })
    const allowed: Record<string, string[]> = { ready: ['id', 'role', 'type'], encrypted: ['ciphertexts', 'id', 'type'], error: ['error', 'fatal', 'id', 'type'] }
    for (const r of replies) expect(Object.keys(r).sort()).toEqual(allowed[r.type])
    for (const file of ['he-protocol.ts', 'he-service.ts', 'he-client.ts']) {
      expect(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')).not.toMatch(/secretKey|SecretKey|saveToArray/)
    }
  })

  it('classifies SEAL memory failures as fatal', () => {
    expect(isFatal(new Error('SEAL failed to encode weights: std::bad_alloc: std::bad_alloc'))).toBe(true)
    expect(isFatal(Object.assign(new Error('memory access out of bounds'), { name: 'RuntimeError' }))).toBe(true)
    expect(isFatal(new Error('input ciphertext: bad magic'))).toBe(false)
  })

  it('a fatal error replaces the worker: pending work fails typed, the next request runs on a new worker', async () => {
    let spawned = 0
    // A worker whose SEAL "runs out of memory" on its first job (the fault is injected in
    // the port; everything after it is the real client and service).
    const spawn = (): HePort => {
      const real = inThreadPort()
      const n = ++spawned
      let onReply: ((r: HeReply) => void) | undefined
      return {
        send (m, t) {
          if (n === 1 && m.type === 'compute') queueMicrotask(() => onReply?.({ type: 'error', id: m.id, error: { name: 'SealError', code: 'SEAL', message: 'std::bad_alloc' }, fatal: true }))
          else real.send(m, t)
        },
        connect (r, c) { onReply = r; real.connect(r, c) },
        terminate: real.terminate
      }
    }
    const plan = makePlan(20, 20, RING_PRESETS.testN256, 10)
    const { w, x, y } = job(20, 20)
    const miner = createHeMinerClient({ spawn })
    const user = createHeUserClient({ spawn: inThreadPort })
    closers.push(miner.close, user.close)
    await miner.prepare('m', plan, w)
    const enc = await user.encrypt(plan, x.slice())
    await expect(miner.compute('m', enc.ciphertexts.map(c => c.slice()))).rejects.toMatchObject({ code: 'SEAL' })
    expect(spawned).toBe(1)
    // The replacement gets the matrix replayed, then computes.
    expect(await user.decrypt(plan, await miner.compute('m', enc.ciphertexts), enc.epoch)).toEqual(y)
    expect(spawned).toBe(2)
  })
})

describe('squeezes in the HE worker', () => {
  it('remember their plan searches in the worker\'s plan store: the next squeeze of that model uses them, the same plans; no SHA-256, no memo; a failing store costs only the search', async () => {
    const ckpt = parseCheckpoint(stories260K().model)
    const kept = new Map<string, string>()
    const store = { get: async (k: string) => kept.get(k), put: async (k: string, t: string) => { kept.set(k, t) } }
    const failing = { get: async () => { throw new Error('quota') }, put: async () => { throw new Error('quota') } }
    const squeeze = async (planStore: typeof store, modelSha256?: string): Promise<Extract<HeReply, { type: 'squeezed' }>> => {
      const replies: HeReply[] = []
      await createHeService({ post: r => replies.push(r), planStore }).handle({ type: 'squeeze', id: 1, ckpt, options: { network: NETWORKS.wan }, ...(modelSha256 === undefined ? {} : { modelSha256 }) })
      expect(replies.map(r => r.type)).toEqual(['squeezed'])
      return replies[0] as Extract<HeReply, { type: 'squeezed' }>
    }
    const sha = 'ab'.repeat(32)
    const first = await squeeze(store, sha)
    expect(first.memo.before).toBe(0)
    expect(first.memo.after).toBeGreaterThan(0)
    expect([...kept.keys()]).toEqual([planMemoKey(sha, { network: NETWORKS.wan })])
    const second = await squeeze(store, sha)
    expect(second.memo).toEqual({ before: first.memo.after, after: first.memo.after })
    const plansOf = (r: typeof first): unknown => r.squeezed.groups.map(([k, g]) => [k, g.plans, g.prefillPlans])
    expect(plansOf(second)).toEqual(plansOf(first))
    expect((await squeeze(store)).memo).toEqual({ before: 0, after: 0 })
    expect(kept.size).toBe(1)
    const broken = await squeeze(failing, sha)
    expect(broken.memo).toEqual({ before: 0, after: first.memo.after })
    expect(plansOf(broken)).toEqual(plansOf(first))
  })
})

describe('local matvecs in the user\'s worker (a page\'s UI thread does no big matvec)', () => {
  it('equal the plaintext twin\'s integer matvec; bad sizes, unknown matrices and the wrong role are typed errors', async () => {
    const user = createHeUserClient({ spawn: inThreadPort })
    closers.push(user.close)
    const { w } = job(300, 64)
    const m = { rows: 300, cols: 64, q: w }
    const xs = [job(1, 64).x, job(1, 64).x, job(1, 64).x]
    const want = xs.map(x => { const y = new Int32Array(300); matvecInt8(w, 300, 64, x, y); return y })
    expect(await user.localMatvecs('cls:0:0', m, xs)).toEqual(want)
    expect(await user.localMatvecs('cls:0:0', m, xs.slice(0, 1))).toEqual(want.slice(0, 1)) // kept: sent once
    await expect(user.localMatvecs('cls:0:0', m, [new Int8Array(63)])).rejects.toMatchObject({ name: 'WorkerProtocolError', message: 'local matrix "cls:0:0" takes 64 inputs, not 63' })
    const replies: HeReply[] = []
    const svc = createHeService({ post: r => replies.push(r) })
    await svc.handle({ type: 'init', id: 1, role: 'user' })
    await svc.handle({ type: 'local-matvecs', id: 2, matrixId: 'x', xs: [] })
    await svc.handle({ type: 'local-prepare', id: 3, matrixId: 'x', rows: 2, cols: 2, w: new Int8Array(3) })
    const minerSvc = createHeService({ post: r => replies.push(r) })
    await minerSvc.handle({ type: 'init', id: 4, role: 'miner' })
    await minerSvc.handle({ type: 'local-prepare', id: 5, matrixId: 'x', rows: 1, cols: 1, w: new Int8Array(1) })
    expect(replies.map(r => r.type === 'error' ? r.error.message : r.type)).toEqual([
      'ready', 'no local matrix "x" is kept in this worker', 'local matrix "x": 3 weights for 2×2', 'ready', '"local-prepare" is a user request, but this worker is a miner worker'
    ])
  })

  it('on a real thread that is killed, the matrix is sent again to its replacement and the products are the same', async () => {
    let thread: Worker | undefined
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker(wk => { thread = wk }) })
    closers.push(user.close)
    const { w } = job(500, 128)
    const m = { rows: 500, cols: 128, q: w }
    const x = job(1, 128).x
    const first = await user.localMatvecs('cls:0:0', m, [x])
    await thread?.terminate() // as the OS would kill it
    expect(await user.localMatvecs('cls:0:0', m, [x])).toEqual(first)
  })

  it('stories260K through a user thread: the local classifier runs there (every token), and the tokens are the w8a8 engine\'s', async () => {
    const files = stories260K()
    const ckpt = parseCheckpoint(files.model)
    const tok = parseTokenizer(files.tokenizer, ckpt.config.vocabSize)
    const sq = squeezeModel(ckpt, { network: NETWORKS.loopback })
    expect([...sq.groups.values()].filter(g => g.placement === 'local').map(g => g.group)).toEqual(['cls'])
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })
    const local = localHe(await loadSeal())
    closers.push(user.close)
    let calls = 0
    const session = { ...user, localMatvecs: async (...a: Parameters<typeof user.localMatvecs>) => { calls++; return await user.localMatvecs(...a) } }
    const backend = await heBackend(sq, session, local.miner)
    const sampler = (): ReturnType<typeof createSampler> => createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
    const got: number[] = []
    for await (const t of generateAsync(privateEngine(sq.params, backend), tok, sampler(), { prompt: 'Once upon a time', steps: 24 })) got.push(t.token)
    await backend.close?.()
    expect(got).toEqual([...generate(createEngine('w8a8', ckpt), tok, sampler(), { prompt: 'Once upon a time', steps: 24 })].map(t => t.token))
    // one classifier product per token sampled: from the prompt's last position (BOS included) to position 22
    expect(calls).toBe(24 - encode(tok, 'Once upon a time').length + 1)
  })
})

describe('HE workers on real threads (worker_threads)', () => {
  it('a pool of two miner threads and a user thread compute 768×768 exactly', async () => {
    const { plan } = planMatvec(768, 768)
    const { w, x, y } = job(768, 768)
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })
    const pool = createMinerPool({ spawn: () => spawnNodeHeWorker(), size: 2 })
    closers.push(user.close, pool.close)
    await pool.prepare('qkv', plan, w)
    for (let i = 0; i < 2; i++) {
      const { ciphertexts, epoch } = await user.encrypt(plan, x.slice())
      expect(await user.decrypt(plan, await pool.compute('qkv', ciphertexts), epoch)).toEqual(y)
    }
    expect(splitBlocks(plan.split.blocks, 2)).toEqual([[0, 12], [12, 24]])
  })

  it('a miner thread reports its memory: SEAL\'s heap, which repeated jobs do not grow (they delete what they make); in-thread it is refused, typed', async () => {
    const { plan } = planMatvec(768, 768)
    const { w, x } = job(768, 768)
    const user = createHeUserClient({ spawn: inThreadPort })
    const pool = createMinerPool({ spawn: () => spawnNodeHeWorker(), size: 1 })
    closers.push(user.close, pool.close)
    const [before] = await pool.memory()
    expect(before.heapUsed).toBeGreaterThan(0)
    expect(before.wasmBytes).toBeGreaterThanOrEqual(16 * 2 ** 20) // SEAL, loaded: its initial heap
    expect(before.external).toBeGreaterThanOrEqual(before.wasmBytes)
    await pool.prepare('qkv', plan, w)
    const { ciphertexts } = await user.encrypt(plan, x.slice())
    await pool.compute('qkv', ciphertexts.map(c => c.slice()))
    const [first] = await pool.memory()
    for (let i = 0; i < 10; i++) await pool.compute('qkv', ciphertexts.map(c => c.slice()))
    expect((await pool.memory())[0].wasmBytes).toBe(first.wasmBytes)
    const inThread = createHeMinerClient({ spawn: inThreadPort })
    closers.push(inThread.close)
    await expect(inThread.memory()).rejects.toMatchObject({ code: 'WORKER_PROTOCOL' })
  })

  it('a hung job times out with a typed error; the miner thread is replaced and works again', async () => {
    const plan = makePlan(4096, 4096, RING_PRESETS.n2048, 64) // ~1 s of work per job here
    const { w, x, y } = job(4096, 4096)
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })
    const miner = createHeMinerClient({ spawn: () => spawnNodeHeWorker(), timeoutMs: 60_000 })
    closers.push(user.close, miner.close)
    await miner.prepare('big', plan, w)
    const enc = await user.encrypt(plan, x.slice())
    await expect(miner.compute('big', enc.ciphertexts.map(c => c.slice()), { timeoutMs: 50 })).rejects.toMatchObject({ name: 'HeWorkerTimeoutError', code: 'HE_WORKER_TIMEOUT' })
    expect(await user.decrypt(plan, await miner.compute('big', enc.ciphertexts), enc.epoch)).toEqual(y)
  })

  it('a killed user thread fails its request, and old ciphertexts are refused (new keys)', async () => {
    let thread: Worker | undefined
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker(wk => { thread = wk }) })
    const miner = createHeMinerClient({ spawn: inThreadPort })
    closers.push(user.close, miner.close)
    const plan = makePlan(30, 30, RING_PRESETS.n2048, 30)
    const { w, x, y } = job(30, 30)
    await miner.prepare('m', plan, w)
    const enc = await user.encrypt(plan, x.slice())
    const results = await miner.compute('m', enc.ciphertexts)
    const pending = user.encrypt(plan, x.slice())
    await thread?.terminate() // as the OS would kill it
    await expect(pending).rejects.toMatchObject({ code: 'WORKER_CRASHED' })
    await expect(user.decrypt(plan, results, enc.epoch)).rejects.toMatchObject({ name: 'HeKeysRotatedError' })
    const again = await user.encrypt(plan, x.slice())
    expect(await user.decrypt(plan, await miner.compute('m', again.ciphertexts), again.epoch)).toEqual(y)
  })

  it('rotate: fresh keys in the same thread — an encryption under way and old results are refused, new ones exact, new Galois keys', async () => {
    const { w, x, y } = job(64, 64)
    const plan = planMatvec(64, 64, { scheme: 'packed', weights: w }).plan
    expect(plan.scheme).toBe('packed')
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })
    const miner = createHeMinerClient({ spawn: inThreadPort })
    closers.push(user.close, miner.close)
    await miner.prepare('m', plan, w)
    const keys0 = await user.galoisKeys(plan)
    await miner.loadKeys('k0', plan, keys0)
    const enc = await user.encrypt(plan, x.slice())
    const results = await miner.compute('m', enc.ciphertexts, { keyId: 'k0' })
    const underWay = user.encrypt(plan, x.slice()).catch((e: unknown) => e)
    await user.rotate()
    expect(await underWay).toMatchObject({ name: 'HeKeysRotatedError' })
    await expect(user.decrypt(plan, results, enc.epoch)).rejects.toMatchObject({ name: 'HeKeysRotatedError' })
    const keys1 = await user.galoisKeys(plan)
    expect(keys1).not.toEqual(keys0)
    const again = await user.encrypt(plan, x.slice())
    expect(again.epoch).not.toBe(enc.epoch)
    // the old key set no longer fits the new inputs; the new one does
    await expect(miner.compute('m', again.ciphertexts.map(c => c.slice()), { keyId: 'k0' })).rejects.toMatchObject({ code: 'HE_WIRE' })
    await miner.loadKeys('k1', plan, keys1)
    expect(await user.decrypt(plan, await miner.compute('m', again.ciphertexts, { keyId: 'k1' }), again.epoch)).toEqual(y)
  })

  it('a batched packed job through a real user worker: 8 vectors, 4 per ciphertext, in one encrypt and one decrypt, each exact; another epoch refused', async () => {
    const w = randomInt8(64 * 64, rand)
    const plan = planMatvec(64, 64, { scheme: 'packed', weights: w, batch: 8, vectors: 4 }).plan
    expect(plan.packed?.layout.vectors).toBe(4)
    const xs = Array.from({ length: 8 }, () => randomInt8(64, rand))
    const ys = xs.map(x => { const y = new Int32Array(64); matvecInt8(w, 64, 64, x, y); return y })
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })
    const miner = createHeMinerClient({ spawn: inThreadPort })
    closers.push(user.close, miner.close)
    await miner.prepare('m*8', plan, w)
    await miner.loadKeys('k', plan, await user.galoisKeys(plan))
    const enc = await user.encryptBatch(plan, xs.map(x => x.slice()))
    expect(enc.ciphertexts.length).toBe(2) // 8 vectors / 4 per ciphertext, one chunk each
    const results = await miner.compute('m*8', enc.ciphertexts, { keyId: 'k' })
    expect(await user.decryptBatch(plan, results.map(r => r.slice()), enc.epoch)).toEqual(ys)
    await expect(user.decryptBatch(plan, results, enc.epoch + 1)).rejects.toMatchObject({ name: 'HeKeysRotatedError' })
    await expect(user.encryptBatch(plan, xs.slice(0, 3))).rejects.toMatchObject({ code: 'HE_JOB' })
  })

  it('squeezes in a planner worker of its own, stopped after (a page\'s UI thread and the user\'s key worker plan nothing): the plan is the one this thread would make, and the private tokens through it are the twin\'s', async () => {
    const files = stories260K()
    const ckpt = parseCheckpoint(files.model)
    const tok = parseTokenizer(files.tokenizer, ckpt.config.vocabSize)
    const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })
    closers.push(user.close)
    let spawned = 0
    let stopped = 0
    const planner = {
      spawn: (): HePort => {
        spawned++
        const port = spawnNodeHeWorker()
        return { ...port, terminate: () => { stopped++; port.terminate() } }
      }
    }
    const sq = await squeezeInWorker(planner, ckpt, { network: NETWORKS.wan })
    expect([spawned, stopped]).toEqual([1, 1])
    const here = squeezeModel(ckpt, { network: NETWORKS.wan })
    const data = (m: typeof sq): unknown => [...m.groups].map(([k, g]) => [k, g.placement, g.plans.map(p => p === undefined ? p : planToData(p)), g.prefillPlans?.map(p => p === undefined ? p : planToData(p)), g.matrices.map(x => [x.q, x.scale])])
    expect(data(sq)).toEqual(data(here))
    expect([...sq.groups.values()].some(g => g.plans.some(p => p?.packed !== undefined))).toBe(true)
    // a squeeze the worker refuses is its typed error, and its worker is stopped all the same
    await expect(squeezeInWorker(planner, ckpt, { rounds: 'fused', fold: false })).rejects.toMatchObject({ name: 'SqueezeOptionsError', code: 'SQUEEZE_OPTIONS' })
    expect([spawned, stopped]).toEqual([2, 2])
    expect((await squeezeInWorker(planner, ckpt, { network: NETWORKS.loopback })).groups.size).toBe(squeezeModel(ckpt, { network: NETWORKS.loopback }).groups.size)
    const local = localHe(await loadSeal())
    const backend = await heBackend(sq, user, local.miner)
    const sampler = (): ReturnType<typeof createSampler> => createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
    const got: number[] = []
    for await (const t of generateAsync(privateEngine(sq.params, backend), tok, sampler(), { prompt: 'Once upon a time', steps: 16 })) got.push(t.token)
    await backend.close?.()
    expect(got).toEqual([...generate(squeezedEngine(here), tok, sampler(), { prompt: 'Once upon a time', steps: 16 })].map(t => t.token))
  })
})
