/**
 * `npm run fuzz:relay [-- FRAMES] [--concurrency N] [--seed S] [--target hop,gossipsub,…]`:
 * the long fuzzing run of the relay (CI runs 10,000 frames in src/bench/relay-fuzz.test.ts).
 * A relay in its own process takes FRAMES (default 100,000) random and mutated frames on
 * every protocol it speaks and raw WebSocket garbage; after every 10,000 its heap is
 * measured after a full GC. Fails (exit 1) on a crash, a hang, a relay that stops
 * answering, heap growth above the bound, or a fresh peer that cannot get a reservation.
 */
import { parseArgs } from 'node:util'
import { fuzzRelay, type FuzzTarget } from '../src/bench/relay-fuzz.ts'
import { measureRelayLoad } from '../src/bench/relay-load.ts'
import { spawnRelayProcess } from '../src/bench/relay-process.ts'

/** Heap the relay may keep after the run, after a full GC. */
const MAX_HEAP_GROWTH_MIB = 64
const CHUNK = 10_000

const { values, positionals } = parseArgs({ options: { concurrency: { type: 'string' }, seed: { type: 'string' }, target: { type: 'string' } }, allowPositionals: true })
const total = Number(positionals[0] ?? 100_000)
const concurrency = Number(values.concurrency ?? 16)
const seed = Number(values.seed ?? 20261125)
const only = values.target?.split(',') as FuzzTarget[] | undefined
if (!Number.isSafeInteger(total) || total < 1) throw new Error(`FRAMES must be a positive whole number, got ${positionals[0]}`)

const mib = (b: number): string => (b / 2 ** 20).toFixed(1)
const relay = await spawnRelayProcess({ inboundConnectionThreshold: 1_000_000 })
let failed = false
try {
  const start = await relay.memory()
  console.log(`relay ${relay.addr} (pid ${relay.pid}); heap ${mib(start.heapUsed)} MiB, RSS ${mib(start.rss)} MiB`)
  const outcomes: Record<string, Record<string, number>> = {}
  let hangs = 0
  let maxFrameMs = 0
  let seconds = 0
  for (let done = 0; done < total; done += CHUNK) {
    const frames = Math.min(CHUNK, total - done)
    const r = await fuzzRelay({ relayAddr: relay.addr, healthUrl: relay.healthUrl, frames, concurrency, seed: seed + done, ...(only === undefined ? {} : { only }) })
    hangs += r.hangs
    maxFrameMs = Math.max(maxFrameMs, r.maxFrameMs)
    seconds += r.seconds
    for (const [t, o] of Object.entries(r.targets)) for (const [k, n] of Object.entries(o)) (outcomes[t] ??= {})[k] = (outcomes[t][k] ?? 0) + n
    const m = await relay.memory()
    console.log(`${done + frames} frames, ${seconds.toFixed(0)} s: hangs ${hangs}, slowest frame ${maxFrameMs} ms, relay heap ${mib(m.heapUsed)} MiB, array buffers ${mib(m.arrayBuffers)} MiB, RSS ${mib(m.rss)} MiB`)
  }
  const end = await relay.memory()
  const growth = (end.heapUsed - start.heapUsed) / 2 ** 20
  const health = await (await fetch(relay.healthUrl, { signal: AbortSignal.timeout(5000) })).json() as { status: string }
  const fresh = await measureRelayLoad({ peers: 2, concurrency: 1, relayAddr: relay.addr, healthUrl: relay.healthUrl, timeoutMs: 10_000 })
  console.log(JSON.stringify(outcomes))
  console.log(`fuzzed the relay with ${total} frames in ${seconds.toFixed(0)} s: ${hangs} hangs, slowest frame ${maxFrameMs} ms; heap ${mib(start.heapUsed)} → ${mib(end.heapUsed)} MiB (+${growth.toFixed(1)}, bound ${MAX_HEAP_GROWTH_MIB}); /health ${health.status}; fresh reservations ${fresh.ok} of 2`)
  if (hangs > 0 || growth > MAX_HEAP_GROWTH_MIB || health.status !== 'ok' || fresh.ok !== 2) failed = true
} catch (err) {
  console.error(`FAILED: ${(err as Error).stack ?? String(err)}`)
  failed = true
} finally {
  if (relay.exitCode !== null) { console.error(`FAILED: the relay exited with ${relay.exitCode}`); failed = true }
  await relay.stop()
}
process.exitCode = failed ? 1 : 0
