/**
 * `npm run fuzz [-- FRAMES]`: the long fuzzing run of the job protocol (CI runs 10,000
 * frames in the unit tests). Random and mutated frames go through the frame decoder and
 * the message decoder; anything but a valid message or a ProtocolError is a bug. Bounded:
 * FRAMES (default 100,000) iterations; memory is checked at the end.
 */
import { decodeMessage, encodeMessage, frame, FrameDecoder, ProtocolError, type LinearMessage } from '../src/core/protocol/index.ts'

const total = Number(process.argv[2] ?? 100_000)
let seed = 20261125
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
  return seed / 4294967296
}
const seeds: LinearMessage[] = [
  { type: 'request', session: 's', job: 'qkv:0:0#1', matrix: 'qkv:0:0', plan: { dOut: 128, dIn: 64, preset: 'n2048', nI: 32 }, ciphertexts: [new Uint8Array(500).fill(3), new Uint8Array(20)] },
  { type: 'result', job: 'qkv:0:0#1', ciphertexts: [new Uint8Array(300).fill(9)] },
  { type: 'error', job: 'x', code: 'HE_WIRE', message: 'bad magic' }
].map(m => m as LinearMessage)
const bodies = seeds.map(encodeMessage)
const counts = { valid: 0, refused: 0 }
const t0 = performance.now()
for (let i = 0; i < total; i++) {
  let b: Uint8Array
  if (i % 3 === 0) b = Uint8Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256))
  else {
    b = bodies[i % bodies.length].slice()
    for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256)
    if (rand() < 0.25) b = b.slice(0, Math.floor(rand() * b.length))
  }
  for (const input of [b, frame(b)]) {
    try {
      if (input === b) { decodeMessage(input); counts.valid++ } else {
        const d = new FrameDecoder()
        // feed in random-sized pieces
        for (let o = 0; o < input.length;) {
          const n = 1 + Math.floor(rand() * 64)
          for (const body of d.push(input.subarray(o, o + n))) { try { decodeMessage(body) } catch (e) { if (!(e instanceof ProtocolError)) throw e } }
          o += n
        }
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) {
        console.error(`BUG: iteration ${i}: ${(err as Error).stack ?? String(err)}`)
        process.exit(1)
      }
      if (input === b) counts.refused++
    }
  }
}
const heapMiB = process.memoryUsage().heapUsed / 2 ** 20
console.log(`fuzzed ${total} messages (and as frames in random pieces) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${counts.valid} decoded, ${counts.refused} refused with ProtocolError, nothing else; heap ${heapMiB.toFixed(0)} MiB`)
