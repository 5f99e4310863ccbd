/**
 * A simulated network link for benchmarks (issue 12 item 4): what is sent on it arrives
 * after it has been serialized at the link's rate and then travelled the one-way delay.
 *
 *   departure = max(now, previous departure) + bytes · 8 / bitsPerSecond
 *   arrival   = departure + oneWayMs
 *
 * One shaper is one direction of one sender's access link: everything queued on it shares
 * its rate, in FIFO order (arrivals are monotonic, so delivery order is send order). It
 * models delay and a rate cap only — no loss, no jitter, no congestion control over the
 * long path — and is platform-neutral (timers are injected), so the Node proxy
 * (tcp-proxy.ts) and the bench pages (datachannel-shaping.ts) share it.
 *
 * Timers bound its precision: a delivery is never early (it waits until the clock says it
 * is due) but may be late by the timer granularity — about 1 ms in Node, and 4 ms in a
 * browser once timers nest five deep — which matters for the 0.5 ms one-way of the `lan`
 * profile and not for `wan`'s 25 ms.
 */
import { CerberusError } from '../core/errors.ts'

/** One direction of a link. */
export interface LinkSpec {
  /** Propagation delay, ms (half the round trip). */
  readonly oneWayMs: number
  /** Serialization rate, bits per second. */
  readonly bitsPerSecond: number
}

/** The clock and timers a shaper runs on (default: performance.now and setTimeout). */
export interface LinkClock {
  readonly now: () => number
  readonly setTimeout: (fn: () => void, ms: number) => unknown
  readonly clearTimeout: (handle: unknown) => void
}

/** A link that delivers in order, late by its delay and rate. */
export interface LinkShaper {
  readonly spec: LinkSpec
  /**
   * Put `bytes` on the link; `deliver` runs once they have arrived (in send order). A
   * zero-byte send (an end-of-stream mark) keeps its place in the order and takes no time
   * on the wire. @throws LinkClosedError after `close`.
   */
  send: (bytes: number, deliver: () => void) => void
  /** Sends not yet delivered. */
  readonly pending: number
  /** Drop what is in flight and stop the timer. */
  close: () => void
}

/** A link's spec is out of its bounds. */
export class LinkSpecError extends CerberusError {
  constructor (message: string) {
    super('LINK_SPEC', message)
  }
}

/** Something was sent on a closed link. */
export class LinkClosedError extends CerberusError {
  constructor (message: string) {
    super('LINK_CLOSED', message)
  }
}

/** Longest one-way delay: 10 s is beyond any real path (geostationary is ~270 ms); more is a unit mistake. */
export const MAX_ONE_WAY_MS = 10_000
/** Slowest rate: 1 kbit/s — slower would make a benchmark of megabyte jobs run for hours. */
export const MIN_BITS_PER_SECOND = 1e3
/** Fastest rate: 1 Tbit/s, beyond any access link (an unshaped run needs no shaper). */
export const MAX_BITS_PER_SECOND = 1e12

/** Check a spec against the bounds. @throws LinkSpecError */
export function checkLinkSpec (spec: LinkSpec): LinkSpec {
  const { oneWayMs, bitsPerSecond } = spec
  if (!Number.isFinite(oneWayMs) || oneWayMs < 0 || oneWayMs > MAX_ONE_WAY_MS) throw new LinkSpecError(`a link's one-way delay must be 0–${MAX_ONE_WAY_MS} ms, got ${oneWayMs}`)
  if (!Number.isFinite(bitsPerSecond) || bitsPerSecond < MIN_BITS_PER_SECOND || bitsPerSecond > MAX_BITS_PER_SECOND) throw new LinkSpecError(`a link's rate must be ${MIN_BITS_PER_SECOND}–${MAX_BITS_PER_SECOND} bit/s, got ${bitsPerSecond}`)
  return spec
}

const SYSTEM_CLOCK: LinkClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: h => { clearTimeout(h as ReturnType<typeof setTimeout>) }
}

interface InFlight { readonly at: number, readonly deliver: () => void }

/**
 * A shaper for one direction of a link. `onError` gets what a `deliver` callback threw
 * (default: rethrown outside the shaper, so one bad callback does not stall the queue).
 * @throws LinkSpecError for a spec out of bounds.
 */
export function createLinkShaper (spec: LinkSpec, opts: { clock?: LinkClock, onError?: (err: unknown) => void } = {}): LinkShaper {
  checkLinkSpec(spec)
  const clock = opts.clock ?? SYSTEM_CLOCK
  const onError = opts.onError ?? ((err: unknown) => { queueMicrotask(() => { throw err }) })
  const msPerByte = 8000 / spec.bitsPerSecond
  let queue: InFlight[] = []
  let head = 0
  let lastDeparture = -Infinity
  let timer: unknown
  let closed = false
  let pumping = false // a deliver callback may send: pump re-arms once at its end

  const arm = (): void => {
    timer = clock.setTimeout(pump, Math.max(0, queue[head].at - clock.now()))
  }
  function pump (): void {
    timer = undefined
    const now = clock.now()
    pumping = true
    try {
      while (head < queue.length && queue[head].at <= now) {
        const item = queue[head++]
        try { item.deliver() } catch (err) { onError(err) }
        if (closed) return
      }
    } finally {
      pumping = false
    }
    if (head === queue.length) { queue = []; head = 0 } else arm()
  }

  return {
    spec,
    get pending () { return queue.length - head },
    send (bytes, deliver) {
      if (closed) throw new LinkClosedError('this simulated link is closed; make a new one')
      if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${bytes}`)
      const departure = Math.max(clock.now(), lastDeparture) + bytes * msPerByte
      lastDeparture = departure
      queue.push({ at: departure + spec.oneWayMs, deliver })
      if (timer === undefined && !pumping) arm()
    },
    close () {
      closed = true
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      queue = []
      head = 0
    }
  }
}
