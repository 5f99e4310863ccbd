/**
 * Linear backends: how the forward pass's linear layers get computed — in the clear
 * (f32, w8a8), encrypted in-process (he-local), or by remote miners (mesh) — behind one
 * asynchronous interface, so one forward pass serves them all.
 */
import { runForward, UNFUSED, type BatchRequest, type ForwardLayout, type LinearBackendSync, type LinearGroup, type LinearRequest, type LinearRound } from '../model/forward.ts'

/** What a backend has done so far (counters only grow). */
export interface BackendStats {
  /** Linear groups computed, per vector (a group over a batch of T vectors counts T). */
  groups: number
  /**
   * Rounds with an encrypted part: jobs sent to miners that the user waited on, i.e.
   * dependent round trips (the parts of one round go out together). Plaintext backends
   * count the rounds their squeezed plan would send.
   */
  rounds: number
  /** ms the user's side spent (quantize, encrypt, decrypt, verify, local matvecs). */
  userMs: number
  /** ms the miners spent (in-process: measured; remote: as reported). */
  minerMs: number
  bytesUp: number
  bytesDown: number
  /**
   * Results checked with Freivalds (one per real vector: a padded batch's zero vectors are
   * checked but not counted), and how many jobs were rejected.
   */
  verified: number
  /** Jobs whose every result passed (a batched job is one job of many vectors). */
  verifiedJobs: number
  rejected: number
  /** ms of the user's time spent on Freivalds checks (part of userMs). */
  verifyMs: number
  /**
   * Where a job's time goes, summed over jobs (the jobs of one round overlap, so these can
   * add up to more than the round's wall time): ms the user's HE session took to encrypt
   * and to decrypt (wall, the hop to its worker included), and ms from handing a job's
   * ciphertexts to the miner link to having its results (the miners' compute, the
   * transport, the hops to their workers and their queues).
   */
  encryptMs: number
  decryptMs: number
  linkMs: number
  /** Bytes of Galois key material handed to the miners (once per session and key set; 0 with no packed plan). */
  keyBytes: number
  /**
   * Times the user's HE keys were replaced by fresh ones after a rejected or malformed
   * result (issue 16: a key never meets the outcome of a rejection twice).
   */
  keyRotations: number
}

/** Computes linear layer groups, possibly remotely. */
export interface LinearBackend {
  readonly name: string
  /** The layout its groups are compiled for (default: unfused). */
  readonly layout?: ForwardLayout
  /** Fill `req.outputs` (one vector). Rejects with the signal's reason when aborted. */
  run: (req: LinearRequest, signal?: AbortSignal) => Promise<void>
  /** Fill every request's outputs, the round's parts at once. Rejects with the signal's reason when aborted. */
  runRound: (round: LinearRound, signal?: AbortSignal) => Promise<void>
  /** Counters since creation. */
  readonly stats: BackendStats
  /** Release workers, keys and prepared matrices. */
  close?: () => Promise<void> | void
}

/** Fresh zeroed counters. */
export function emptyStats (): BackendStats {
  return { groups: 0, rounds: 0, userMs: 0, minerMs: 0, bytesUp: 0, bytesDown: 0, verified: 0, verifiedJobs: 0, rejected: 0, verifyMs: 0, encryptMs: 0, decryptMs: 0, linkMs: 0, keyBytes: 0, keyRotations: 0 }
}

/** A single request as a one-vector round. */
export function asRound (req: LinearRequest): LinearRound {
  return [{ ...req, batch: 1 }]
}

const CHECKPOINT_GROUPS: ReadonlySet<string> = new Set<LinearGroup>(['qkv', 'o', 'up', 'down', 'cls'])

// Row t of a batched request as a one-vector request of a checkpoint group.
function rowOf (req: BatchRequest, t: number): LinearRequest {
  if (!CHECKPOINT_GROUPS.has(req.group)) throw new RangeError(`a plain backend computes the checkpoint's groups only, not "${req.group}" (a round-fused plan needs a squeezed backend)`)
  const cols = req.input.length / req.batch
  return {
    group: req.group as LinearGroup,
    layer: req.layer,
    input: req.input.subarray(t * cols, (t + 1) * cols),
    outputs: req.outputs.map(o => o.subarray(t * (o.length / req.batch), (t + 1) * (o.length / req.batch)))
  }
}

/** A synchronous, in-process backend as a {@link LinearBackend} (its time counts as the user's; unfused layout). */
export function fromSync (name: string, sync: LinearBackendSync): LinearBackend {
  const stats = emptyStats()
  const backend: LinearBackend = {
    name,
    stats,
    layout: UNFUSED,
    async run (req, signal) { await backend.runRound(asRound(req), signal) },
    async runRound (round, signal) {
      signal?.throwIfAborted()
      const t0 = performance.now()
      for (const req of round) for (let t = 0; t < req.batch; t++) sync.run(rowOf(req, t))
      stats.userMs += performance.now() - t0
      for (const req of round) stats.groups += req.batch
    }
  }
  return backend
}

/** Drive a forward program with an asynchronous backend. */
export async function runForwardAsync (program: Generator<LinearRequest, Float32Array, void>, backend: LinearBackend, signal?: AbortSignal): Promise<Float32Array> {
  let step = program.next()
  while (step.done !== true) {
    await backend.run(step.value, signal)
    step = program.next()
  }
  return step.value
}

/** Drive a round program with an asynchronous backend. */
export async function runRoundsAsync (program: Generator<LinearRound, Float32Array, void>, backend: LinearBackend, signal?: AbortSignal): Promise<Float32Array> {
  let step = program.next()
  while (step.done !== true) {
    await backend.runRound(step.value, signal)
    step = program.next()
  }
  return step.value
}

export { runForward }
