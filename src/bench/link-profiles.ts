/**
 * The links `bench mesh --link` simulates between the user and the miners (issue 12 item
 * 4): `lan` 1 ms round trip at 1 Gbit/s, `wan` 50 ms at 50 Mbit/s, each way; `loopback`
 * unshaped. Each also names the network profile the user plans for on it.
 *
 * Why the planner's own profiles (core/he/planner.ts `NETWORKS`: lan 4 MB/s and 2 ms, wan
 * 1 MB/s and 60 ms) stay as they are: they describe what a user's stack *achieves*
 * (lan is what browser↔browser WebRTC streams reached on loopback here, wan a home
 * uplink), they are what `cerberus plan --network` and the app default to, and tests pin
 * the choices made on them. The bench links are raw capacities a shaper imposes, so the
 * user tab plans with exactly those numbers; an unshaped loopback run plans as today, on
 * `NETWORKS.lan` — the throughput this machine's loopback stack was measured to reach — so
 * its numbers stay comparable with earlier runs.
 */
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import { CerberusError } from '../core/errors.ts'
import type { LinkSpec } from './link-shaper.ts'

/** A benchmark link's name (the JSON's `link`). */
export type LinkName = 'loopback' | 'lan' | 'wan'

/** Every link name, in order. */
export const LINK_NAMES: readonly LinkName[] = ['loopback', 'lan', 'wan']

/** A benchmark link. */
export interface LinkProfile {
  readonly name: LinkName
  /** Shaping, each way (absent: unshaped loopback). */
  readonly shape?: { readonly rttMs: number, readonly bitsPerSecond: number }
  /** What the user's planner is told about the link. */
  readonly network: NetworkProfile
}

/** The links of issue 12 (lan: 1 ms, 1 Gbit/s; wan: 50 ms, 50 Mbit/s). */
export const LINK_PROFILES: Readonly<Record<LinkName, LinkProfile>> = Object.freeze({
  loopback: Object.freeze({ name: 'loopback', network: NETWORKS.lan }),
  lan: Object.freeze({ name: 'lan', shape: Object.freeze({ rttMs: 1, bitsPerSecond: 1e9 }), network: Object.freeze({ name: 'bench-lan', bandwidth: 1e9 / 8, rttMs: 1 }) }),
  wan: Object.freeze({ name: 'wan', shape: Object.freeze({ rttMs: 50, bitsPerSecond: 50e6 }), network: Object.freeze({ name: 'bench-wan', bandwidth: 50e6 / 8, rttMs: 50 }) })
})

/** A link name that is not one of {@link LINK_NAMES}. */
export class LinkNameError extends CerberusError {
  constructor (message: string) {
    super('LINK_NAME', message)
  }
}

/** The profile of a link name. @throws LinkNameError */
export function linkProfile (name: string): LinkProfile {
  if (!(LINK_NAMES as readonly string[]).includes(name)) throw new LinkNameError(`the link must be one of ${LINK_NAMES.join(', ')}, got "${name}"`)
  return LINK_PROFILES[name as LinkName]
}

/** One direction of a shaped link (half the round trip, the full rate). */
export function directionSpec (link: LinkProfile): LinkSpec | undefined {
  return link.shape === undefined ? undefined : { oneWayMs: link.shape.rttMs / 2, bitsPerSecond: link.shape.bitsPerSecond }
}
