/**
 * Round trips per token, and the choice between the unfused and the round-fused layout
 * (issue 12). A round is what the forward pass (model/forward.ts `forwardRounds`) yields
 * at once: the user sends every encrypted part of it together and waits for all of them,
 * so a round costs its parts' compute and bytes plus *one* round trip. The unfused layout
 * has 4 rounds per layer; the fused one 2 per layer + 1, for ~2× the miner's
 * multiply-accumulates and two more encrypted inputs per layer. Which wins depends on the
 * network: round trips dominate a WAN, compute a loopback.
 */
import type { ModelConfig } from '../model/checkpoint.ts'
import type { ForwardLayout, RoundGroup } from '../model/forward.ts'
import { groupKey } from '../model/w8a8.ts'
import type { NetworkProfile } from '../he/planner.ts'

/** Predicted cost of one group (or of a token: every round once). */
export interface GroupPrediction {
  readonly userMs: number
  readonly minerMs: number
  readonly bytesUp: number
  readonly bytesDown: number
  /** user + miner + transfer + round trip (local groups: just the user's matvec). */
  readonly totalMs: number
}

/** Predicted cost of one token. */
export interface TokenPrediction extends GroupPrediction {
  /** Rounds with an encrypted part: dependent round trips per token. */
  readonly roundTrips: number
}

/** How `squeezeModel` picks the layout: by the cost model ('auto') or forced. */
export type RoundsMode = 'auto' | 'fused' | 'unfused'

/** The layout chosen, why, and what both were predicted to cost. */
export interface RoundsChoice {
  /** What was asked for. */
  readonly mode: RoundsMode
  /** What was built. */
  readonly chosen: 'fused' | 'unfused'
  /** What 'auto' picks on this network (the same as `chosen` when mode is 'auto'). */
  readonly preferred: 'fused' | 'unfused'
  readonly reason: string
  /** Per token, both layouts (fused absent when it cannot be built: gains not folded). */
  readonly predicted: { readonly unfused: TokenPrediction, readonly fused?: TokenPrediction }
}

/** A group's place in a round. */
export interface RoundSlot {
  readonly group: RoundGroup
  readonly layer: number
}

/** The rounds of one token, in order — the structure `forwardRounds` yields. */
export function tokenRounds (c: ModelConfig, layout: ForwardLayout): RoundSlot[][] {
  const L = c.nLayers
  const out: RoundSlot[][] = []
  const s = (group: RoundGroup, layer: number): RoundSlot => ({ group, layer })
  if (layout.rounds === 'unfused') {
    for (let l = 0; l < L; l++) out.push([s('qkv', l)], [s('o', l)], [s('up', l)], [s('down', l)])
    out.push([s('cls', -1)])
    return out
  }
  out.push([s('qkv', 0)])
  for (let l = 0; l < L; l++) {
    out.push([s('o-up', l), s('up', l)])
    if (l + 1 < L) out.push([s('down-qkv', l), s('qkv', l + 1)])
    else if (layout.classifierInLastRound) out.push([s('down', l), s('cls-down', l), s('cls', -1)])
    else out.push([s('down', l)], [s('cls', -1)])
  }
  return out
}

/** What a compiled group needs for the prediction. */
interface Predicted { readonly placement: 'encrypted' | 'local', readonly predicted: GroupPrediction }

/**
 * Predicted cost per token of `rounds` over `groups`: per round, its parts' compute and
 * bytes and one round trip when any part is encrypted; local parts cost the user's time.
 * @throws {RangeError} when a round names a group that is not compiled.
 */
export function predictRounds (groups: ReadonlyMap<string, Predicted>, rounds: readonly RoundSlot[][], network: NetworkProfile): TokenPrediction {
  let userMs = 0
  let minerMs = 0
  let bytesUp = 0
  let bytesDown = 0
  let totalMs = 0
  let roundTrips = 0
  for (const round of rounds) {
    let bytes = 0
    let encrypted = false
    for (const slot of round) {
      const g = groups.get(groupKey(slot.group, slot.layer))
      if (g === undefined) throw new RangeError(`no compiled group ${slot.group} in layer ${slot.layer}`)
      const p = g.predicted
      userMs += p.userMs
      minerMs += p.minerMs
      bytesUp += p.bytesUp
      bytesDown += p.bytesDown
      bytes += p.bytesUp + p.bytesDown
      totalMs += p.userMs + p.minerMs
      if (g.placement === 'encrypted') encrypted = true
    }
    if (encrypted) {
      totalMs += (bytes / network.bandwidth) * 1000 + network.rttMs
      roundTrips++
    }
  }
  return { userMs, minerMs, bytesUp, bytesDown, totalMs, roundTrips }
}

const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`

/**
 * Pick the layout: 'auto' takes the one predicted faster per token on the network.
 * `fused` is undefined when the fused layout cannot be built (gains not folded).
 */
export function chooseRounds (mode: RoundsMode, network: NetworkProfile, unfused: TokenPrediction, fused: TokenPrediction | undefined): RoundsChoice {
  const why = fused === undefined
    ? 'round fusion needs the RMSNorm gains folded into the matrices (fold: true)'
    : `on ${network.name} (${network.rttMs} ms round trip, ${(network.bandwidth / 1e6).toFixed(0)} MB/s): fused ${ms(fused.totalMs)} per token with ${fused.roundTrips} round trips, ${((fused.bytesUp + fused.bytesDown) / 1024).toFixed(0)} KiB and ${ms(fused.minerMs)} of miner time, against unfused ${ms(unfused.totalMs)} with ${unfused.roundTrips} round trips, ${((unfused.bytesUp + unfused.bytesDown) / 1024).toFixed(0)} KiB and ${ms(unfused.minerMs)}`
  const preferred = fused !== undefined && fused.totalMs < unfused.totalMs ? 'fused' : 'unfused'
  const chosen = mode === 'auto' ? preferred : mode
  const verdict = fused === undefined ? `unfused: ${why}` : `${preferred} is predicted faster ${why}`
  const reason = mode === 'auto' ? verdict : `${mode} asked for (auto would pick ${verdict})`
  return { mode, chosen, preferred, reason, predicted: fused === undefined ? { unfused } : { unfused, fused } }
}
