/**
 * The privacy audit of captured wire bytes: does anything a user sent contain the prompt
 * (as text, or any word of it of 4+ letters), a run of three consecutive token ids (u16 or
 * u32, little-endian), or any 16-byte window of a plaintext activation (the int8 vectors
 * that get encrypted)? Used by the Node mesh test and by the browser e2e tests, which
 * capture bytes at the data-channel level.
 */

/** What the audit looks for. */
export interface AuditSecrets {
  readonly prompt: string
  /** Every token id of the generation (BOS, the prompt's, the answer's). */
  readonly tokens: readonly number[]
  /** Every quantized input vector that was encrypted. */
  readonly activations: readonly Int8Array[]
}

/** The audit's verdict: `findings` is empty when nothing leaked. */
export interface AuditReport {
  readonly bytes: number
  readonly needles: number
  readonly findings: string[]
}

/** Concatenate chunks. */
export function concatBytes (chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0))
  let o = 0
  for (const c of chunks) { out.set(c, o); o += c.byteLength }
  return out
}

/** Search `wire` for every secret; one pass over the wire, needles indexed by their first 4 bytes. */
export function auditWire (wire: Uint8Array, secrets: AuditSecrets): AuditReport {
  const needles: Array<{ what: string, bytes: Uint8Array }> = []
  const enc = new TextEncoder()
  needles.push({ what: 'the prompt', bytes: enc.encode(secrets.prompt) })
  for (const w of secrets.prompt.split(/\W+/).filter(x => x.length >= 4)) needles.push({ what: `the prompt's word "${w}"`, bytes: enc.encode(w) })
  const ids = secrets.tokens
  for (let i = 0; i + 3 <= ids.length; i++) {
    const tri = ids.slice(i, i + 3)
    needles.push({ what: `token ids ${tri.join(',')} (u16)`, bytes: new Uint8Array(Uint16Array.from(tri).buffer) })
    needles.push({ what: `token ids ${tri.join(',')} (u32)`, bytes: new Uint8Array(Uint32Array.from(tri).buffer) })
  }
  secrets.activations.forEach((xq, k) => {
    const b = new Uint8Array(xq.buffer, xq.byteOffset, xq.byteLength)
    for (let o = 0; o + 16 <= b.length; o += 16) needles.push({ what: `activation ${k} bytes ${o}..${o + 16}`, bytes: b.slice(o, o + 16) })
  })
  const key = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
  const index = new Map<number, Array<{ what: string, bytes: Uint8Array }>>()
  for (const n of needles) {
    if (n.bytes.length < 4) continue
    const k = key(n.bytes, 0)
    const list = index.get(k)
    if (list === undefined) index.set(k, [n])
    else list.push(n)
  }
  const found = new Set<string>()
  for (let i = 0; i + 4 <= wire.length; i++) {
    const list = index.get(key(wire, i))
    if (list === undefined) continue
    for (const n of list) {
      if (found.has(n.what) || i + n.bytes.length > wire.length) continue
      let j = 4
      while (j < n.bytes.length && wire[i + j] === n.bytes[j]) j++
      if (j === n.bytes.length) found.add(n.what)
    }
  }
  return { bytes: wire.length, needles: needles.length, findings: [...found] }
}
