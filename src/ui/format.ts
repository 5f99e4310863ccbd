/**
 * Numbers and ids as people read them. Pure functions, shared by every panel (and by the
 * widget, which reuses the chat components).
 */

/** 1536 -> "1.5 KiB"; binary units, as the README's tables use. */
export function formatBytes (n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—'
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`
}

/** 12D3KooWAbc…xyz9 -> "…xyz9ab" style short id: the last 6 characters, as libp2p logs shorten them. */
export function shortPeerId (id: string): string {
  return id.length <= 10 ? id : `…${id.slice(-6)}`
}

/** Milliseconds as "850 ms" or "2.4 s". */
export function formatMs (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** Tokens per second of an answer (0 when it took no time). */
export function tokensPerSecond (tokens: number, ms: number): number {
  return ms > 0 ? tokens / (ms / 1000) : 0
}

/** "1 miner", "2 miners". */
export function plural (n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/**
 * Where a private answer's time went, as a line: this tab's encryption and decryption (in
 * its HE worker), and the waiting for the miners (their compute and the network), with the
 * round trips. Undefined when the receipt has no breakdown (local mode, older receipts).
 */
export function receiptTimeLine (r: { readonly time?: { readonly encryptMs: number, readonly decryptMs: number, readonly jobsMs: number }, readonly rounds?: number, readonly layout?: 'fused' | 'unfused' }): string | undefined {
  if (r.time === undefined) return undefined
  const trips = r.rounds === undefined ? '' : ` over ${plural(r.rounds, 'round trip')}`
  // a fused round's jobs run at once: their times add up to more than the wait
  const overlap = r.layout === 'fused' ? ', summed over jobs that run at once' : ''
  return `encrypting and decrypting in this tab ${formatMs(r.time.encryptMs + r.time.decryptMs)}; waiting for the miners (their compute and the network${trips}) ${formatMs(r.time.jobsMs)}${overlap}`
}
