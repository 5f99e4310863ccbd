/**
 * The miner's inner loop as a WebAssembly kernel: acc = Σ_c X_c ⊙ W_c mod q over
 * NTT-domain polynomials, with 64-bit integer arithmetic that JavaScript lacks.
 *
 * Each product X·W (< q² < 2^120) is added exactly into a 128-bit accumulator per
 * coefficient; a Barrett reduction runs once per coefficient at the end (and, for wide
 * primes, every few chunks so the accumulator cannot overflow). SEAL's own
 * `multiply_plain` + `add` reduces every product and costs ~12 ns per coefficient in
 * WebAssembly; this loop does one 64×64→128 multiply (four 32×32 products) and a 128-bit
 * add. It is exact: tests hold it to a BigInt reference.
 *
 * Memory layout (one module instance per prepared matrix): u64 arrays, little-endian.
 */
import { assemble, op, T, type WasmFunction } from './wasm-asm.ts'

const M32 = 0xffffffffn

// locals of mac2: params x0p, x1p, wp, a0p, a1p, n
const MAC = { x0p: 0, x1p: 1, wp: 2, a0p: 3, a1p: 4, n: 5, end: 6, w0: 7, w1: 8, xl: 9, xh: 10, mid: 11, p00: 12, lo: 13, hi: 14, tmp: 15 }

// acc[ap] (128-bit) += x[xp] · w, with w's 32-bit halves in w0, w1
function macOne (xp: number, ap: number): number[][] {
  const L = MAC
  return [
    op.get(xp), op.load64(), op.tee(L.tmp), op.i64(M32), op.i64and, op.set(L.xl),
    op.get(L.tmp), op.i64(32n), op.i64shru, op.set(L.xh),
    op.get(L.xl), op.get(L.w0), op.i64mul, op.set(L.p00),
    op.get(L.xl), op.get(L.w1), op.i64mul, op.get(L.xh), op.get(L.w0), op.i64mul, op.i64add, op.set(L.mid),
    // lo = p00 + (mid << 32); carry = lo < p00
    op.get(L.p00), op.get(L.mid), op.i64(32n), op.i64shl, op.i64add, op.set(L.lo),
    // hi = xh·w1 + (mid >> 32) + carry
    op.get(L.xh), op.get(L.w1), op.i64mul, op.get(L.mid), op.i64(32n), op.i64shru, op.i64add,
    op.get(L.lo), op.get(L.p00), op.i64ltu, op.i64extendu, op.i64add, op.set(L.hi),
    // acc.lo += lo (tmp = new lo); acc.hi += hi + (tmp < lo)
    op.get(ap), op.get(ap), op.load64(0), op.get(L.lo), op.i64add, op.tee(L.tmp), op.store64(0),
    op.get(ap), op.get(ap), op.load64(8), op.get(L.hi), op.i64add, op.get(L.tmp), op.get(L.lo), op.i64ltu, op.i64extendu, op.i64add, op.store64(8)
  ]
}

const advance = (local: number, bytes: number): number[][] => [op.get(local), op.i32(bytes), op.i32add, op.set(local)]

const mac2: WasmFunction = {
  name: 'mac2',
  params: [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32],
  results: [],
  locals: [T.i32, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64],
  body: [
    op.get(MAC.wp), op.get(MAC.n), op.i32(3), op.i32shl, op.i32add, op.set(MAC.end),
    op.block, op.loop,
    op.get(MAC.wp), op.get(MAC.end), op.i32ltu, op.i32eqz, op.brIf(1),
    op.get(MAC.wp), op.load64(), op.tee(MAC.tmp), op.i64(M32), op.i64and, op.set(MAC.w0),
    op.get(MAC.tmp), op.i64(32n), op.i64shru, op.set(MAC.w1),
    ...macOne(MAC.x0p, MAC.a0p),
    ...macOne(MAC.x1p, MAC.a1p),
    ...advance(MAC.wp, 8), ...advance(MAC.x0p, 8), ...advance(MAC.x1p, 8), ...advance(MAC.a0p, 16), ...advance(MAC.a1p, 16),
    op.br(0),
    op.end, op.end
  ]
}

// reduce(ap, op_, n, q, mu, shift, stride): out = acc mod q; stride 8 writes dense u64,
// stride 16 writes (r, 0) back as a 128-bit accumulator.
const R = { ap: 0, outp: 1, n: 2, q: 3, mu: 4, shift: 5, stride: 6, end: 7, mu0: 8, mu1: 9, s: 10, s0: 11, s1: 12, mid: 13, qe: 14, r: 15, p01: 16, p10: 17 }

function condSub (): number[][] {
  // r = r >= q ? r - q : r
  return [op.get(R.r), op.get(R.q), op.i64sub, op.get(R.r), op.get(R.r), op.get(R.q), op.i64geu, op.select, op.set(R.r)]
}

const reduce: WasmFunction = {
  name: 'reduce',
  params: [T.i32, T.i32, T.i32, T.i64, T.i64, T.i64, T.i32],
  results: [],
  locals: [T.i32, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64],
  body: [
    op.get(R.ap), op.get(R.n), op.i32(4), op.i32shl, op.i32add, op.set(R.end),
    op.get(R.mu), op.i64(M32), op.i64and, op.set(R.mu0),
    op.get(R.mu), op.i64(32n), op.i64shru, op.set(R.mu1),
    op.block, op.loop,
    op.get(R.ap), op.get(R.end), op.i32ltu, op.i32eqz, op.brIf(1),
    // s = acc >> shift (fits 64 bits by the caller's bound)
    op.get(R.ap), op.load64(8), op.i64(64n), op.get(R.shift), op.i64sub, op.i64shl,
    op.get(R.ap), op.load64(0), op.get(R.shift), op.i64shru, op.i64or, op.set(R.s),
    op.get(R.s), op.i64(M32), op.i64and, op.set(R.s0),
    op.get(R.s), op.i64(32n), op.i64shru, op.set(R.s1),
    // qe = mulhi(s, mu)
    op.get(R.s0), op.get(R.mu1), op.i64mul, op.set(R.p01),
    op.get(R.s1), op.get(R.mu0), op.i64mul, op.set(R.p10),
    op.get(R.s0), op.get(R.mu0), op.i64mul, op.i64(32n), op.i64shru,
    op.get(R.p01), op.i64(M32), op.i64and, op.i64add,
    op.get(R.p10), op.i64(M32), op.i64and, op.i64add, op.set(R.mid),
    op.get(R.s1), op.get(R.mu1), op.i64mul,
    op.get(R.p01), op.i64(32n), op.i64shru, op.i64add,
    op.get(R.p10), op.i64(32n), op.i64shru, op.i64add,
    op.get(R.mid), op.i64(32n), op.i64shru, op.i64add, op.set(R.qe),
    // r = acc.lo − qe·q (mod 2^64; the true value is < 4q)
    op.get(R.ap), op.load64(0), op.get(R.qe), op.get(R.q), op.i64mul, op.i64sub, op.set(R.r),
    ...condSub(), ...condSub(), ...condSub(),
    op.get(R.outp), op.get(R.r), op.store64(0),
    // when writing back into an accumulator (stride 16), zero its high word
    op.block, op.get(R.stride), op.i32(16), op.i32ne, op.brIf(0), op.get(R.outp), op.i64(0n), op.store64(8), op.end,
    op.get(R.outp), op.get(R.stride), op.i32add, op.set(R.outp),
    ...advance(R.ap, 16),
    op.br(0),
    op.end, op.end
  ]
}

let compiled: WebAssembly.Module | undefined

/** The compiled kernel module (compiled once per thread; ~1 KiB). */
export function macModule (): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(assemble([mac2, reduce], 1) as Uint8Array<ArrayBuffer>)
  return compiled
}

/** Barrett constants for a prime q: shift = bits(q) − 1, mu = ⌊2^(shift+64) / q⌋. */
export function barrett (q: bigint): { shift: bigint, mu: bigint } {
  const shift = BigInt(q.toString(2).length - 1)
  return { shift, mu: (1n << (shift + 64n)) / q }
}

/**
 * How many products may be added into a 128-bit accumulator before it must be reduced:
 * the Barrett step needs acc >> (bits(q) − 1) < 2^64, i.e. acc < 2^(63 + bits(q)); with
 * products < q² ≤ 2^(2·bits), that is 2^(63 − bits(q)) of them (minus one, for the
 * reduced remainder already there).
 */
export function foldInterval (q: bigint): number {
  const bits = q.toString(2).length
  return Math.max(1, 2 ** Math.min(20, 63 - bits) - 1)
}

/** A kernel instance with its own memory. */
export interface MacKernel {
  readonly memory: WebAssembly.Memory
  /** Grow memory to at least `bytes`. */
  ensure: (bytes: number) => void
  /** acc0 += x0 ⊙ w, acc1 += x1 ⊙ w over n coefficients (byte offsets). */
  mac2: (x0: number, x1: number, w: number, acc0: number, acc1: number, n: number) => void
  /** out = acc mod q for n 128-bit accumulators; stride 8 (dense u64) or 16 (back into accumulators). */
  reduce: (acc: number, out: number, n: number, q: bigint, mu: bigint, shift: bigint, stride: 8 | 16) => void
}

/** Instantiate the kernel. */
export function createMacKernel (): MacKernel {
  const instance = new WebAssembly.Instance(macModule(), {})
  const e = instance.exports as unknown as {
    memory: WebAssembly.Memory
    mac2: (a: number, b: number, c: number, d: number, e: number, n: number) => void
    reduce: (a: number, o: number, n: number, q: bigint, mu: bigint, shift: bigint, stride: number) => void
  }
  return {
    memory: e.memory,
    ensure (bytes) {
      const have = e.memory.buffer.byteLength
      if (bytes > have) e.memory.grow(Math.ceil((bytes - have) / 65536))
    },
    mac2: e.mac2,
    reduce: e.reduce
  }
}
