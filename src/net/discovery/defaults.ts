/** Discovery's timing and size defaults (shared by the table and the announcer). */

/**
 * Defaults, and why.
 * - intervalMs: 5 s keeps `load` fresh enough for scheduling at ~300 B per miner per
 *   interval, which 1,000 miners turn into ~60 KB/s at each peer.
 * - forgetAfterMs: three missed intervals, so one lost message does not drop a miner.
 * - minGapMs: triggered announcements (a neighbour subscribed, a new peer spoke) are at
 *   most one per 0.5 s, so a crowd arriving at once costs each miner 2 messages a second.
 * - maxPeers: a table holds at most 1,024 peers; records from further new peers are
 *   ignored until some are forgotten (keys are free, so the bound must be on the table).
 */
export const DISCOVERY_DEFAULTS = Object.freeze({
  intervalMs: 5_000,
  forgetAfterMs: 15_000,
  minGapMs: 500,
  maxPeers: 1024
})
