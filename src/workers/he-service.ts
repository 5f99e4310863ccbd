/**
 * What runs inside an HE worker, free of worker globals so that it also runs in-thread
 * (tests, Node tools). The entry files only wire it to a message port.
 */
import { createHeMiner, createHeUser, loadSeal, type GaloisKeyHandle, type HeMiner, type HeUser, type PreparedMatrix, type Seal } from '../core/he/index.ts'
import { planFromData } from '../core/he/index.ts'
import type { HeReply, HeRequest, HeRole, WorkerMemory } from './he-protocol.ts'
import { serializeError } from '../core/errors.ts'
import { WorkerProtocolError } from './errors.ts'
import { createMinerGpu, type GpuStarter } from './miner-gpu.ts'
import { plainIntMatvec, type IntMatrix } from '../core/engine/index.ts'
import { parsePlanMemo, planMemoJson, planMemoKey, squeezeModel, squeezedToTransfer, type PlanMemo } from '../core/squeeze/index.ts'

/** Handles one request at a time; replies through `post`. */
export interface HeService {
  handle: (request: HeRequest) => Promise<void>
}

/** Options of {@link createHeService}. */
export interface HeServiceInit {
  /** Send a reply (the caller transfers its buffers). */
  post: (reply: HeReply) => void
  /** Load SEAL (default: node-seal's own loader). */
  loadSeal?: (wasmUrl?: string) => Promise<Seal>
  /** Reads this thread's memory (the Node worker entry gives one; without it, `memory` requests are refused). */
  memory?: () => WorkerMemory
  /**
   * Start this worker's GPU engine, self-test included, when a miner client asks for it
   * (`use-gpu`); absent: the worker has no GPU runtime and computes on the CPU.
   */
  startGpu?: GpuStarter
  /**
   * Where squeezes remember their plan searches between sessions (a page's worker: IndexedDB,
   * plan-store.web.ts); absent: every squeeze searches. A store that fails only costs the search.
   */
  planStore?: PlanStore
}

/** Text kept by key (plan memos: plan-memo.ts). */
export interface PlanStore {
  get: (key: string) => Promise<string | undefined>
  put: (key: string, text: string) => Promise<void>
}

/**
 * Whether an error leaves SEAL unusable. After a failed allocation the WebAssembly heap
 * is in an unknown state (node-seal then hangs on the next delete), so the worker must be
 * replaced rather than reused.
 */
export function isFatal (err: unknown): boolean {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? String(err)}`
  return /bad_alloc|out of memory|memory access out of bounds|unreachable|RuntimeError/i.test(text)
}

/** The worker side of the HE protocol. */
export function createHeService (init: HeServiceInit): HeService {
  let role: HeRole | undefined
  let seal: Seal | undefined
  let user: HeUser | undefined
  let miner: HeMiner | undefined
  const matrices = new Map<string, PreparedMatrix>()
  const keySets = new Map<string, GaloisKeyHandle>()
  const locals = new Map<string, IntMatrix>() // a user's local matrices (public weights)
  const gpu = createMinerGpu(init.startGpu)
  const reply = (r: HeReply): void => { init.post(r) }

  // A user worker makes encryptions of zero (HeUser.precompute) after an encryption, while
  // the job is at the miner: one per macrotask, until the next request comes (a decryption
  // is followed at once by the next round's encryption, so nothing is made then). A request
  // that arrives mid-way waits for one at most (~0.5–1.3 ms).
  let ahead: ReturnType<typeof setTimeout> | undefined
  const stopAhead = (): void => {
    if (ahead !== undefined) clearTimeout(ahead)
    ahead = undefined
  }
  const workAhead = (): void => {
    if (ahead !== undefined || role !== 'user') return
    ahead = setTimeout(() => {
      ahead = undefined
      if (role === 'user' && user?.precompute() === true) workAhead()
    }, 0)
  }

  const requireRole = (want: HeRole, type: string): void => {
    if (role !== want) throw new WorkerProtocolError(`"${type}" is a ${want} request, but this worker is ${role === undefined ? 'not initialised' : `a ${role} worker`}`)
  }

  async function run (r: HeRequest): Promise<void> {
    switch (r.type) {
      case 'init': {
        if (role !== undefined) throw new WorkerProtocolError(`this worker is already a ${role} worker`)
        if (r.role === 'planner') {
          role = 'planner'
          reply({ type: 'ready', id: r.id, role: r.role })
          return
        }
        seal = await (init.loadSeal ?? (url => loadSeal(url === undefined ? {} : { wasmUrl: url })))(r.wasmUrl)
        role = r.role
        if (r.role === 'user') user = createHeUser(seal)
        else miner = createHeMiner(seal)
        reply({ type: 'ready', id: r.id, role: r.role })
        return
      }
      case 'encrypt':
        requireRole('user', r.type)
        reply({ type: 'encrypted', id: r.id, ciphertexts: (user as HeUser).encryptInput(planFromData(r.plan), r.x) })
        return
      case 'decrypt':
        requireRole('user', r.type)
        reply({ type: 'decrypted', id: r.id, y: (user as HeUser).decryptResults(planFromData(r.plan), r.results) })
        return
      case 'encrypt-batch':
        requireRole('user', r.type)
        reply({ type: 'encrypted', id: r.id, ciphertexts: (user as HeUser).encryptBatch(planFromData(r.plan), r.xs) })
        return
      case 'decrypt-batch':
        requireRole('user', r.type)
        reply({ type: 'decrypted-batch', id: r.id, ys: (user as HeUser).decryptBatch(planFromData(r.plan), r.results) })
        return
      case 'rotate':
        requireRole('user', r.type)
        ;(user as HeUser).dispose()
        user = createHeUser(seal as Seal)
        reply({ type: 'rotated', id: r.id })
        return
      case 'prepare': {
        requireRole('miner', r.type)
        matrices.get(r.matrixId)?.delete()
        matrices.delete(r.matrixId)
        await gpu.release(r.matrixId)
        const m = (miner as HeMiner).prepare(planFromData(r.plan), r.w, r.blocks)
        matrices.set(r.matrixId, m)
        const on = await gpu.load(r.matrixId, miner as HeMiner, m)
        reply({ type: 'prepared', id: r.id, heapBytes: m.heapBytes, ...on })
        return
      }
      case 'galois-keys':
        requireRole('user', r.type)
        reply({ type: 'galois-keys', id: r.id, keys: (user as HeUser).galoisKeys(planFromData(r.plan)) })
        return
      case 'compute': {
        requireRole('miner', r.type)
        const m = matrices.get(r.matrixId)
        if (m === undefined) throw new WorkerProtocolError(`no matrix "${r.matrixId}" is prepared in this worker`)
        const keys = r.keyId === undefined ? undefined : keySets.get(r.keyId)
        if (r.keyId !== undefined && keys === undefined) throw new WorkerProtocolError(`no key set "${r.keyId}" is loaded in this worker`)
        const { results, timing } = await gpu.compute(r.matrixId, miner as HeMiner, m, r.inputs, keys)
        reply({ type: 'computed', id: r.id, results, timing })
        return
      }
      case 'load-keys': {
        requireRole('miner', r.type)
        keySets.get(r.keyId)?.delete()
        keySets.delete(r.keyId)
        const k = (miner as HeMiner).loadGaloisKeys(r.keys, planFromData(r.plan))
        keySets.set(r.keyId, k)
        reply({ type: 'keys-loaded', id: r.id, heapBytes: k.heapBytes })
        return
      }
      case 'release-keys':
        requireRole('miner', r.type)
        keySets.get(r.keyId)?.delete()
        keySets.delete(r.keyId)
        reply({ type: 'released', id: r.id })
        return
      case 'release':
        requireRole('miner', r.type)
        matrices.get(r.matrixId)?.delete()
        matrices.delete(r.matrixId)
        await gpu.release(r.matrixId)
        reply({ type: 'released', id: r.id })
        return
      case 'local-prepare':
        requireRole('user', r.type)
        if (r.w.length !== r.rows * r.cols) throw new WorkerProtocolError(`local matrix "${r.matrixId}": ${r.w.length} weights for ${r.rows}×${r.cols}`)
        locals.set(r.matrixId, { rows: r.rows, cols: r.cols, q: r.w })
        reply({ type: 'local-prepared', id: r.id })
        return
      case 'local-matvecs': {
        requireRole('user', r.type)
        const m = locals.get(r.matrixId)
        if (m === undefined) throw new WorkerProtocolError(`no local matrix "${r.matrixId}" is kept in this worker`)
        const bad = r.xs.find(x => x.length !== m.cols)
        if (bad !== undefined) throw new WorkerProtocolError(`local matrix "${r.matrixId}" takes ${m.cols} inputs, not ${bad.length}`)
        reply({ type: 'local-results', id: r.id, ys: r.xs.map(x => plainIntMatvec(m, x)) })
        return
      }
      case 'squeeze': {
        const store = r.modelSha256 === undefined ? undefined : init.planStore
        const key = r.modelSha256 === undefined ? '' : planMemoKey(r.modelSha256, r.options)
        const memo: PlanMemo = store === undefined ? new Map() : parsePlanMemo(await store.get(key).catch(() => undefined))
        const before = memo.size
        const squeezed = squeezedToTransfer(squeezeModel(r.ckpt, { ...r.options, memo })).message
        if (store !== undefined && memo.size > before) await store.put(key, planMemoJson(memo)).catch(() => {})
        reply({ type: 'squeezed', id: r.id, squeezed, memo: store === undefined ? { before: 0, after: 0 } : { before, after: memo.size } })
        return
      }
      case 'memory': {
        if (init.memory === undefined) throw new WorkerProtocolError('this worker cannot report its memory')
        reply({ type: 'memory', id: r.id, ...init.memory() })
        return
      }
      case 'use-gpu':
        requireRole('miner', r.type)
        reply({ type: 'device', id: r.id, device: await gpu.start() })
        return
      default:
        throw new WorkerProtocolError(`unknown request type "${String((r as { type?: unknown }).type)}"`)
    }
  }

  return {
    async handle (request) {
      stopAhead()
      try {
        await run(request)
        if (request.type === 'encrypt' || request.type === 'encrypt-batch') workAhead()
      } catch (err) {
        reply({ type: 'error', id: typeof request?.id === 'number' ? request.id : -1, error: serializeError(err), fatal: isFatal(err) })
      }
    }
  }
}
