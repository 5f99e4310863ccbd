/**
 * A tiny WebAssembly assembler: just what the HE kernels need (i32/i64 integer
 * arithmetic, loads and stores, loops), written as functions that emit bytecode.
 * Spec: https://webassembly.github.io/spec/core/binary/ (MVP binary format).
 */

/** Unsigned LEB128. */
export function uleb (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

/** Signed LEB128 of a BigInt. */
export function sleb (v: bigint): number[] {
  const out: number[] = []
  for (;;) {
    const b = Number(v & 0x7fn)
    v >>= 7n
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)
    out.push(done ? b : b | 0x80)
    if (done) return out
  }
}

const I32 = 0x7f
const I64 = 0x7e
/** Value types. */
export const T = { i32: I32, i64: I64 } as const

/** Instructions, each returning its bytes. */
export const op = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (v: number): number[] => [0x41, ...sleb(BigInt(v))],
  i64: (v: bigint): number[] => [0x42, ...sleb(BigInt.asIntN(64, v))],
  i32add: [0x6a],
  i32shl: [0x74],
  i32sub: [0x6b],
  i32ltu: [0x49],
  i32ne: [0x47],
  i32eqz: [0x45],
  i64add: [0x7c],
  i64sub: [0x7d],
  i64mul: [0x7e],
  i64and: [0x83],
  i64or: [0x84],
  i64shl: [0x86],
  i64shru: [0x88],
  i64ltu: [0x54],
  i64geu: [0x5a],
  i64extendu: [0xad],
  select: [0x1b],
  /** i64.load with a constant offset (alignment 8). */
  load64: (offset = 0): number[] => [0x29, 3, ...uleb(offset)],
  /** i64.store with a constant offset (alignment 8). */
  store64: (offset = 0): number[] => [0x37, 3, ...uleb(offset)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  end: [0x0b]
}

/** A function: parameter types, result types, extra locals, body. */
export interface WasmFunction {
  readonly name: string
  readonly params: readonly number[]
  readonly results: readonly number[]
  readonly locals: readonly number[]
  readonly body: ReadonlyArray<number | number[]>
}

function section (id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content]
}

function vec (items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()]
}

/**
 * Assemble a module that exports its memory ("memory", `pages` × 64 KiB initially) and
 * the given functions by name.
 */
export function assemble (fns: readonly WasmFunction[], pages: number): Uint8Array {
  const types = vec(fns.map(f => [0x60, ...uleb(f.params.length), ...f.params, ...uleb(f.results.length), ...f.results]))
  const funcs = vec(fns.map((_, i) => uleb(i)))
  const memory = vec([[0x00, ...uleb(pages)]])
  const enc = new TextEncoder()
  const exports = vec([
    [...uleb(6), ...enc.encode('memory'), 0x02, 0x00],
    ...fns.map((f, i) => [...uleb(f.name.length), ...enc.encode(f.name), 0x00, ...uleb(i)])
  ])
  const codes = vec(fns.map(f => {
    const locals = vec(f.locals.map(t => [1, t]))
    const body = [...locals, ...f.body.flat(), 0x0b]
    return [...uleb(body.length), ...body]
  }))
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, codes)
  ])
}
