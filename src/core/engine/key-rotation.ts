/**
 * Fresh keys after any rejected result (issue 16) — the rotation barrier of the encrypted
 * backend.
 *
 * Why: a cheating miner can perturb a result so that whether it passes verification
 * depends on the decryption noise, i.e. on the secret key; whether the user then drops the
 * result (and re-runs the job) tells the miner one bit about that key, and a dropped cheat
 * comes back under a fresh peer id for free. This is the reaction / decryption-failure
 * attack on IND-CPA-D (Li and Micciancio, EUROCRYPT 2021; Cheon et al. for BFV). The answer
 * is that a key never meets the outcome of a rejection twice: after any rejected or
 * malformed result the user makes a new secret key (and new Galois keys for packed plans)
 * before anything more is encrypted, and every job still under the old key is re-encrypted
 * and re-sent under the new one — its old result, if one comes, is never decrypted.
 *
 * The guard keeps a key *generation*: it moves the moment a rejection is seen, so every
 * job can tell whether its ciphertexts are still current. Encryption waits while a rotation
 * is pending ({@link KeyGuard.ready}); ciphertexts made under an older generation are never
 * sent, and results of one are never decrypted. With packed plans the miners hold one Galois
 * key set per session and parameter set, so the new set is sent only once the jobs still
 * running under the old one have come back (they would fail against the new set).
 */
import { CerberusError } from '../errors.ts'
import type { MatvecPlan } from '../he/plan.ts'
import type { HeSession, MinerLink } from './he-backend.ts'

/** The HE session cannot make fresh keys, so after a rejected result it must not encrypt again. */
export class KeyRotationError extends CerberusError {
  constructor (message: string) {
    super('KEY_ROTATION', message)
  }
}

/** Whether `err` says the session's keys changed under a job (encrypt again). */
export function isKeysRotated (err: unknown): boolean {
  return err instanceof CerberusError && err.code === 'HE_KEYS_ROTATED'
}

/** The rotation barrier of one backend (see the file's comment). */
export interface KeyGuard {
  /** The key generation now in use: it moves the moment a rotation begins. */
  readonly generation: number
  /** Rotations made after rejected results (keys replaced for other reasons do not count). */
  readonly rotations: number
  /**
   * Resolves when no rotation is pending (starting one that is owed because the last try
   * failed): what is encrypted next is under current keys.
   * @throws {KeyRotationError} or the session's error when fresh keys cannot be made.
   */
  ready: () => Promise<void>
  /** Whether ciphertexts made under generation `gen` may still be sent, or their results decrypted. */
  current: (gen: number) => boolean
  /**
   * An encryption under generation `gen` came back with the session's `epoch`: false when it
   * shows that the session's keys were replaced without a rotation (its worker crashed), in
   * which case the miners' Galois keys are replaced and the caller encrypts again.
   */
  observe: (gen: number, epoch: number) => boolean
  /** A result of a job encrypted under generation `gen` was rejected: rotate, once per generation. */
  rejected: (gen: number) => void
  /** Run a miner call, so that a rotation can wait for it before replacing the miners' keys. */
  track: <T>(call: Promise<T>) => Promise<T>
  /** Send the Galois key sets of the packed plans to the miners (the backend's setup). */
  sendKeys: () => Promise<void>
}

/**
 * The barrier for `session` and `miner`; `packed` holds one plan per packed parameter set
 * (empty for a coefficient-only model: then no key material lives on the miners);
 * `on.rotated` is told of each rotation made after a rejection, once it is done, and
 * `on.keysSent` of the bytes of every Galois key set handed to the miner.
 */
export function keyGuard (session: HeSession, miner: MinerLink, packed: readonly MatvecPlan[], on: { rotated?: () => void, keysSent?: (bytes: number) => void } = {}): KeyGuard {
  let generation = 0
  let rotations = 0
  let pending: Promise<void> | undefined
  // A rotation that failed must be made before anything is encrypted again (fail closed).
  let owed: { fresh: boolean } | undefined
  // The session epoch the miners' Galois keys belong to (adopted from the first encryption after they were sent).
  let keyEpoch: number | undefined
  const inFlight = new Set<Promise<unknown>>()

  const sendKeys = async (): Promise<void> => {
    for (const plan of packed) {
      if (session.galoisKeys === undefined || miner.setKeys === undefined) throw new KeyRotationError(`a packed plan needs Galois keys, but the ${session.galoisKeys === undefined ? 'HE session makes none' : `link to ${miner.name} cannot carry them`}`)
      const galois = await session.galoisKeys(plan)
      await miner.setKeys(plan, galois)
      on.keysSent?.(galois.byteLength)
    }
    keyEpoch = undefined
  }

  const replace = async (fresh: boolean): Promise<void> => {
    if (fresh) {
      if (session.rotate === undefined) throw new KeyRotationError('a result was rejected, and this HE session cannot make fresh keys: it must not encrypt again (its key would meet the cheat again). Start a new session.')
      await session.rotate()
    }
    if (packed.length > 0) {
      // Jobs still on the miners under the old Galois keys finish first (their results are
      // stale and get re-sent); a miner replaces a session's set for the same parameters.
      await Promise.allSettled([...inFlight])
      await sendKeys()
    }
    if (fresh) {
      rotations++
      on.rotated?.()
    }
  }

  const start = (fresh: boolean): void => {
    generation++
    owed = undefined
    const p: Promise<void> = replace(fresh)
      .catch((err: unknown) => { owed = { fresh: fresh || owed?.fresh === true }; throw err })
      .finally(() => { if (pending === p) pending = undefined })
    pending = p
    p.catch(() => {}) // reported to every job waiting in `ready`
  }

  return {
    get generation () { return generation },
    get rotations () { return rotations },
    async ready () {
      for (;;) {
        if (pending !== undefined) await pending
        else if (owed !== undefined) start(owed.fresh)
        else return
      }
    },
    current: gen => gen === generation && pending === undefined && owed === undefined,
    observe (gen, epoch) {
      if (gen !== generation) return false
      if (keyEpoch === undefined || packed.length === 0) { keyEpoch = epoch; return true }
      if (epoch === keyEpoch) return true
      start(false)
      return false
    },
    rejected (gen) {
      // A rejection of an older generation tested a key that is already gone.
      if (gen === generation) start(true)
    },
    async track (call) {
      inFlight.add(call)
      try {
        return await call
      } finally {
        inFlight.delete(call)
      }
    },
    sendKeys
  }
}
