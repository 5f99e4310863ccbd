/**
 * Linear backends: how the forward pass's linear layers get computed — in the clear
 * (f32, w8a8), encrypted in-process (he-local), or by remote miners (mesh) — behind one
 * asynchronous interface, so one forward pass serves them all.
 */
import { runForward, type LinearBackendSync, type LinearRequest } from '../model/forward.ts'

/** What a backend has done so far (counters only grow). */
export interface BackendStats {
  /** Linear groups computed. */
  groups: number
  /** ms the user's side spent (quantize, encrypt, decrypt, verify, local matvecs). */
  userMs: number
  /** ms the miners spent (in-process: measured; remote: as reported). */
  minerMs: number
  bytesUp: number
  bytesDown: number
  /** Results checked with Freivalds, and how many were rejected. */
  verified: number
  rejected: number
  /** ms of the user's time spent on Freivalds checks (part of userMs). */
  verifyMs: number
}

/** Computes linear layer groups, possibly remotely. */
export interface LinearBackend {
  readonly name: string
  /** Fill `req.outputs`. Rejects with the signal's reason when aborted. */
  run: (req: LinearRequest, signal?: AbortSignal) => Promise<void>
  /** Counters since creation. */
  readonly stats: BackendStats
  /** Release workers, keys and prepared matrices. */
  close?: () => Promise<void> | void
}

/** Fresh zeroed counters. */
export function emptyStats (): BackendStats {
  return { groups: 0, userMs: 0, minerMs: 0, bytesUp: 0, bytesDown: 0, verified: 0, rejected: 0, verifyMs: 0 }
}

/** A synchronous, in-process backend as a {@link LinearBackend} (its time counts as the user's). */
export function fromSync (name: string, sync: LinearBackendSync): LinearBackend {
  const stats = emptyStats()
  return {
    name,
    stats,
    async run (req, signal) {
      signal?.throwIfAborted()
      const t0 = performance.now()
      sync.run(req)
      stats.userMs += performance.now() - t0
      stats.groups++
    }
  }
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

export { runForward }
