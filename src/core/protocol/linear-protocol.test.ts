import { describe, expect, it } from 'vitest'
import { prng } from '../../test/fixtures.ts'
import { RING_PRESETS } from '../he/params.ts'
import { makePackedPlan, planToData } from '../he/plan.ts'
import { decodeMessage, encodeMessage, ERROR_CODES, frame, FrameDecoder, LINEAR_PROTOCOL, MAX_CIPHERTEXT_BYTES, MAX_FRAME_BYTES, MAX_KEY_SET_BYTES, ProtocolError, type LinearMessage } from './linear-protocol.ts'

const request: LinearMessage = {
  type: 'request',
  session: 's-1',
  job: 'qkv:0:0#17',
  matrix: 'qkv:0:0',
  plan: { dOut: 128, dIn: 64, preset: 'n2048', nI: 32 },
  blocks: [1, 2],
  ciphertexts: [new Uint8Array([1, 2, 3]), new Uint8Array(1000).fill(7)]
}
const result: LinearMessage = { type: 'result', job: 'qkv:0:0#17', ciphertexts: [new Uint8Array([9]), new Uint8Array(0)] }
const failure: LinearMessage = { type: 'error', job: 'qkv:0:0#17', code: 'HE_WIRE', message: 'input ciphertext: bad magic — ünïcödé' }
const packedPlan = planToData(makePackedPlan(300, 50, RING_PRESETS.testN256ks, { nI: 64, orbitLevels: 2, vectors: 2, batch: 3 }))
const packedRequest: LinearMessage = { ...request, plan: packedPlan, blocks: [0, 4], ciphertexts: [new Uint8Array([5, 6, 7, 8])] } as LinearMessage
const batchRequest: LinearMessage = { ...request, plan: { ...request.plan, scheme: 'coeff', batch: 4 }, ciphertexts: [new Uint8Array([1, 2])] } as LinearMessage
// A key set: the HE header (magic "CBHE", version 1, kind 5) and a body the miner's HE layer validates.
const keySet = Uint8Array.from({ length: 3000 }, (_, i) => (i < 4 ? [0x43, 0x42, 0x48, 0x45][i] : i === 4 ? 1 : i === 5 ? 5 : i % 251))
const keys: LinearMessage = { type: 'keys', session: 's-1', keys: keySet }

describe('the /cerberus/linear/2.0.0 schema', () => {
  it('round-trips requests (coefficient, batched, packed), results, errors and keys', () => {
    expect(LINEAR_PROTOCOL).toBe('/cerberus/linear/2.0.0')
    for (const m of [request, batchRequest, packedRequest, result, failure, keys]) expect(decodeMessage(encodeMessage(m))).toEqual(m)
    expect(ERROR_CODES).toEqual({ UNKNOWN_KEYS: 'UNKNOWN_KEYS', BAD_KEYS: 'BAD_KEYS' })
  })

  const body = encodeMessage(request)
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['an empty message', () => new Uint8Array(0), /ends inside the version/],
    ['another version', () => { const b = body.slice(); b[0] = 1; return b }, /protocol version 1, expected 2/],
    ['an unknown type', () => { const b = body.slice(); b[1] = 9; return b }, /unknown message type 9/],
    ['a truncated message', () => body.slice(0, body.length - 1), /message ends inside ciphertext 1/],
    ['trailing bytes', () => { const b = new Uint8Array(body.length + 2); b.set(body); return b }, /2 bytes after the end of the message/],
    ['an oversized id', () => { const b = body.slice(); b[2] = 0xff; b[3] = 0xff; return b }, /the session id is 65535 bytes, more than 128/],
    ['invalid UTF-8', () => { const b = body.slice(); b[4] = 0xff; return b }, /the session id is not valid UTF-8/],
    ['an impossible plan', () => decodeBodyWith({ ...request, plan: { dOut: 0, dIn: 64, preset: 'n2048', nI: 32 } } as LinearMessage), /invalid plan: plan field dOut = 0/],
    ['an unknown preset', () => decodeBodyWith({ ...request, plan: { dOut: 8, dIn: 8, preset: 'n1', nI: 8 } } as LinearMessage), /invalid plan: unknown ring preset "n1"/],
    ['an empty block range', () => encodeMessage({ ...request, blocks: [1, 1] } as LinearMessage), /block range \[1, 1\) is not a non-empty part of the plan's 2 blocks/],
    ['a block range past the plan', () => encodeMessage({ ...request, blocks: [0, 3] } as LinearMessage), /block range \[0, 3\)/],
    ['a huge ciphertext count', () => patchCount(body, 0xffff), /65535 ciphertexts, more than 4096/],
    ['a huge ciphertext length', () => patchFirstLength(body, MAX_CIPHERTEXT_BYTES + 1), /ciphertext 0 is 1048577 bytes/],
    ['an unknown scheme', () => { const b = body.slice(); b[planTailOffset(b)] = 7; return b }, /invalid plan: unknown scheme 7/],
    ['a packed plan that fails re-validation', () => encodeMessage({ ...packedRequest, plan: { ...packedPlan, plainModulus: 7681 } } as LinearMessage), /invalid plan: plaintext modulus 7681 cannot hold/],
    ['a packed plan with too deep an orbit', () => encodeMessage({ ...packedRequest, plan: { ...packedPlan, orbitLevels: 9 } } as LinearMessage), /invalid plan: orbit levels b = 9/],
    ['an oversized key set', () => keysBody(MAX_KEY_SET_BYTES + 1), /a key set of 1048577 bytes, more than 1048576/],
    ['a truncated key set', () => encodeMessage(keys).slice(0, -1), /message ends inside the key set/],
    ['a keys message without a key set', () => { const b = encodeMessage(keys); b[b.length - keySet.length + 5] = 3; return b }, /does not carry a Cerberus Galois key set/]
  ]
  for (const [what, make, message] of cases) {
    it(`refuses ${what} with a ProtocolError`, () => {
      expect(() => decodeMessage(make())).toThrow(ProtocolError)
      expect(() => decodeMessage(make())).toThrow(message)
    })
  }

  it('a request without a block range asks for every block', () => {
    const all = { ...request, blocks: undefined } as LinearMessage
    expect(decodeMessage(encodeMessage(all))).toEqual({ ...request, blocks: [0, 2] })
  })

  it('refuses to encode what it would refuse to decode', () => {
    expect(() => encodeMessage({ ...result, job: 'x'.repeat(200) } as LinearMessage)).toThrow(/the job id is 200 bytes/)
  })
})

function decodeBodyWith (m: LinearMessage): Uint8Array {
  return encodeMessage(m)
}
// A keys message body announcing `len` key-set bytes (with only the header behind it).
function keysBody (len: number): Uint8Array {
  const b = encodeMessage(keys)
  const head = 2 + 2 + new TextEncoder().encode('s-1').length
  new DataView(b.buffer).setUint32(head, len, true)
  return b
}
// request layout: ver, type, 3 strings, plan (u32,u32,str,u32 | u8 scheme, u16 batch), block range (u32,u32), then u16 count
function planTailOffset (b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset)
  let o = 2
  for (let i = 0; i < 3; i++) o += 2 + dv.getUint16(o, true)
  o += 8
  o += 2 + dv.getUint16(o, true)
  return o + 4
}
function countOffset (b: Uint8Array): number {
  return planTailOffset(b) + 3 + 8
}
function patchCount (b: Uint8Array, n: number): Uint8Array {
  const c = b.slice()
  new DataView(c.buffer).setUint16(countOffset(c), n, true)
  return c
}
function patchFirstLength (b: Uint8Array, n: number): Uint8Array {
  const c = b.slice()
  new DataView(c.buffer).setUint32(countOffset(c) + 2, n, true)
  return c
}

describe('framing', () => {
  it('reassembles frames split at every byte boundary', () => {
    const frames = [encodeMessage(request), encodeMessage(result), encodeMessage(failure), encodeMessage(keys)].map(frame)
    const stream = new Uint8Array(frames.reduce((a, f) => a + f.length, 0))
    let o = 0
    for (const f of frames) { stream.set(f, o); o += f.length }
    for (const size of [1, 2, 7, 300, stream.length]) {
      const d = new FrameDecoder()
      const got: LinearMessage[] = []
      for (let i = 0; i < stream.length; i += size) for (const b of d.push(stream.subarray(i, i + size))) got.push(decodeMessage(b))
      expect(got).toEqual([request, result, failure, keys])
      expect(d.pending).toBe(0)
    }
  })

  it('refuses an announced frame above the bound before buffering it', () => {
    const d = new FrameDecoder()
    const len = MAX_FRAME_BYTES + 1
    const prefix = [(len & 0x7f) | 0x80, ((len >> 7) & 0x7f) | 0x80, ((len >> 14) & 0x7f) | 0x80, (len >> 21) & 0x7f]
    expect(() => d.push(Uint8Array.from(prefix))).toThrow(/announced, more than/)
    expect(() => new FrameDecoder().push(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(/longer than 5 bytes/)
  })
})

describe('fuzzing (10,000 random and mutated frames)', () => {
  it('decodes or refuses with a ProtocolError — never anything else, never a hang', () => {
    const rand = prng(2024)
    const seeds = [request, result, failure, keys, packedRequest, batchRequest].map(encodeMessage)
    let refused = 0
    let accepted = 0
    for (let i = 0; i < 10_000; i++) {
      let b: Uint8Array
      if (i % 3 === 0) {
        b = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))
      } else {
        b = seeds[i % seeds.length].slice()
        const flips = 1 + Math.floor(rand() * 4)
        for (let k = 0; k < flips; k++) b[Math.floor(rand() < 0.5 ? rand() * Math.min(b.length, 64) : rand() * b.length)] = Math.floor(rand() * 256)
        if (rand() < 0.2) b = b.slice(0, Math.floor(rand() * b.length))
      }
      try {
        decodeMessage(b)
        accepted++
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError)
        refused++
      }
      // frames too: random chunks into a decoder
      const d = new FrameDecoder()
      try {
        for (const body of d.push(b)) {
          try { decodeMessage(body) } catch (err) { expect(err).toBeInstanceOf(ProtocolError) }
        }
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError)
      }
      expect(d.pending).toBeLessThanOrEqual(b.length)
    }
    expect(refused + accepted).toBe(10_000)
    expect(refused).toBeGreaterThan(5000)
  })
})
