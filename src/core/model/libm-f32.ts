/**
 * expf, sinf and cosf computed exactly as glibc computes them on x86-64 with FMA (and on
 * AArch64), so that the exact engine reproduces run.c's float32 results bit for bit.
 *
 * Why: glibc's float functions are *not* correctly rounded (expf ≤ 0.502 ulp, sinf/cosf ≤
 * 0.561 ulp), so `Math.fround(Math.exp(x))` — which nearly always is — differs from
 * glibc's expf on 0.06 % of inputs and from sinf/cosf on ~1.3 % of RoPE angles (measured
 * against glibc 2.36). Those one-ulp differences reach every logit. The algorithms are
 * glibc's (from ARM's optimized-routines, sysdeps/ieee754/flt-32): a 32-entry 2^(i/32)
 * table plus a cubic for expf; a single multiply-subtract (|x| < 120) or a 4/π table
 * (otherwise) for the sin/cos argument reduction, then even/odd polynomials — evaluated in
 * float64 with fused multiply-adds where GCC contracts them on FMA hardware. The tests
 * compare against glibc-computed values.
 *
 * Without FMA hardware (x86-64 before Haswell) glibc's generic build rounds the products
 * separately; on such a machine run.c's last bits can differ from ours.
 */


/** A C99 hexadecimal float literal ("0x1.8p+52"), which JavaScript lacks; exact. */
function hexf (lit: string): number {
  const m = /^0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(lit)
  if (m === null) throw new SyntaxError(`bad hex float ${lit}`)
  const frac = m[2] ?? ''
  return Number.parseInt(m[1] + frac, 16) * Math.pow(2, Number(m[3]) - 4 * frac.length)
}

// ---------------------------------------------------------------------------
// Exact fused multiply-add in float64 (Boldo & Melquiond, "Emulation of FMA and
// correctly rounded sums: proved algorithms using rounding to odd", IEEE TC 2008).

const SPLITTER = 134217729 // 2^27 + 1, Veltkamp's split constant for float64
const bits = new DataView(new ArrayBuffer(8))

// a + b = s + e exactly
function twoSumErr (a: number, b: number, s: number): number {
  const bb = s - a
  return (a - (s - bb)) + (b - bb)
}

// a · b = p + e exactly (no overflow in our ranges)
function twoProdErr (a: number, b: number, p: number): number {
  let t = SPLITTER * a
  const ah = t - (t - a)
  const al = a - ah
  t = SPLITTER * b
  const bh = t - (t - b)
  const bl = b - bh
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl
}

// v rounded to odd, given that the exact value is v + e: nudge an even v one ulp toward e.
function roundToOdd (v: number, e: number): number {
  if (e === 0 || v === 0) return v
  bits.setFloat64(0, v)
  const lo = bits.getUint32(4)
  if ((lo & 1) === 1) return v
  const hi = bits.getUint32(0)
  if ((v > 0) === (e > 0)) { // magnitude up
    bits.setUint32(4, lo + 1)
  } else { // magnitude down
    if (lo === 0) { bits.setUint32(0, hi - 1); bits.setUint32(4, 0xffffffff) } else bits.setUint32(4, lo - 1)
  }
  return bits.getFloat64(0)
}

/** a · b + c with a single rounding, as the FMA instruction computes it. */
export function fma (a: number, b: number, c: number): number {
  const p = a * b
  const pe = twoProdErr(a, b, p)
  const s = c + p
  const se = twoSumErr(c, p, s)
  const t = se + pe
  const te = twoSumErr(se, pe, t)
  return s + roundToOdd(t, te)
}

// ---------------------------------------------------------------------------
// Float32 bit helpers

const f32bits = new DataView(new ArrayBuffer(4))
function asuint (x: number): number {
  f32bits.setFloat32(0, x)
  return f32bits.getUint32(0)
}
// The top 12 bits of a float (sign, exponent, 3 mantissa bits), as glibc compares them.
const top12 = (x: number): number => asuint(x) >>> 20
const abstop12 = (x: number): number => (asuint(x) >>> 20) & 0x7ff

// ---------------------------------------------------------------------------
// expf

const EXP2F_N = 32
/** 2^(i/32) for i = 0..31, as exact float64 bit patterns (glibc's __exp2f_data.tab plus i<<47). */
const EXP2F_TAB = [
  0x3ff0000000000000n, 0x3fefd9b0d3158574n, 0x3fefb5586cf9890fn, 0x3fef9301d0125b51n,
  0x3fef72b83c7d517bn, 0x3fef54873168b9aan, 0x3fef387a6e756238n, 0x3fef1e9df51fdee1n,
  0x3fef06fe0a31b715n, 0x3feef1a7373aa9cbn, 0x3feedea64c123422n, 0x3feece086061892dn,
  0x3feebfdad5362a27n, 0x3feeb42b569d4f82n, 0x3feeab07dd485429n, 0x3feea47eb03a5585n,
  0x3feea09e667f3bcdn, 0x3fee9f75e8ec5f74n, 0x3feea11473eb0187n, 0x3feea589994cce13n,
  0x3feeace5422aa0dbn, 0x3feeb737b0cdc5e5n, 0x3feec49182a3f090n, 0x3feed503b23e255dn,
  0x3feee89f995ad3adn, 0x3feeff76f2fb5e47n, 0x3fef199bdd85529cn, 0x3fef3720dcef9069n,
  0x3fef5818dcfba487n, 0x3fef7c97337b9b5fn, 0x3fefa4afa2a490dan, 0x3fefd0765b6e4540n
].map((t, i) => {
  bits.setBigUint64(0, t + (BigInt(i) << 47n))
  return bits.getFloat64(0)
})
const EXP2F_SHIFT = hexf('0x1.8p+52')
const INV_LN2_N = hexf('0x1.71547652b82fep+0') * EXP2F_N
const EXP2F_C0 = hexf('0x1.c6af84b912394p-5') / EXP2F_N / EXP2F_N / EXP2F_N
const EXP2F_C1 = hexf('0x1.ebfce50fac4f3p-3') / EXP2F_N / EXP2F_N
const EXP2F_C2 = hexf('0x1.62e42ff0c52d6p-1') / EXP2F_N
const TOP12_88 = top12(88)
const EXPF_OVERFLOW = hexf('0x1.62e42ep6') // log(hexf('0x1p128'))
const EXPF_UNDERFLOW = -hexf('0x1.9fe368p6') // log(hexf('0x1p-150'))

/** glibc's expf(x) for a float32 x, returned as a float32 value. */
export function expf (x: number): number {
  const abstop = top12(x) & 0x7ff
  if (abstop >= TOP12_88) {
    if (x === Number.NEGATIVE_INFINITY) return 0
    if (abstop >= 0x7f8) return Math.fround(x + x)
    if (x > EXPF_OVERFLOW) return Number.POSITIVE_INFINITY
    if (x < EXPF_UNDERFLOW) return 0
  }
  // x·N/ln2 = k + r, |r| ≤ 1/2; exp(x) = 2^(k/N) · 2^(r/N)
  const z = INV_LN2_N * x
  const kdShifted = z + EXP2F_SHIFT
  const kd = kdShifted - EXP2F_SHIFT // round(z), exactly
  const r = z - kd
  const k = kd
  const i = ((k % EXP2F_N) + EXP2F_N) % EXP2F_N
  const s = EXP2F_TAB[i] * Math.pow(2, (k - i) / EXP2F_N)
  const zz = fma(EXP2F_C0, r, EXP2F_C1)
  const r2 = r * r
  let y = fma(EXP2F_C2, r, 1)
  y = fma(zz, r2, y)
  return Math.fround(y * s)
}

// ---------------------------------------------------------------------------
// sinf / cosf

interface SinCosTable { readonly hpiInv: number, readonly hpi: number, readonly c0: number, readonly c1: number, readonly c2: number, readonly c3: number, readonly c4: number, readonly s1: number, readonly s2: number, readonly s3: number }
const SIGN = [1, -1, -1, 1]
const TABLE: readonly SinCosTable[] = [
  { hpiInv: hexf('0x1.45F306DC9C883p+23'), hpi: hexf('0x1.921FB54442D18p0'), c0: hexf('0x1p0'), c1: -hexf('0x1.ffffffd0c621cp-2'), c2: hexf('0x1.55553e1068f19p-5'), c3: -hexf('0x1.6c087e89a359dp-10'), c4: hexf('0x1.99343027bf8c3p-16'), s1: -hexf('0x1.555545995a603p-3'), s2: hexf('0x1.1107605230bc4p-7'), s3: -hexf('0x1.994eb3774cf24p-13') },
  // The second entry computes −cos(x), to get the negation for free.
  { hpiInv: hexf('0x1.45F306DC9C883p+23'), hpi: hexf('0x1.921FB54442D18p0'), c0: -hexf('0x1p0'), c1: hexf('0x1.ffffffd0c621cp-2'), c2: -hexf('0x1.55553e1068f19p-5'), c3: hexf('0x1.6c087e89a359dp-10'), c4: -hexf('0x1.99343027bf8c3p-16'), s1: -hexf('0x1.555545995a603p-3'), s2: hexf('0x1.1107605230bc4p-7'), s3: -hexf('0x1.994eb3774cf24p-13') }
]
/** 4/π to 192 bits, 8 new bits per entry (glibc's __inv_pio4). */
const INV_PIO4 = [
  0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e, 0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529,
  0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1, 0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
  0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041
].map(BigInt)
const PI64 = hexf('0x1.921FB54442D18p-62') // π · 2^-64
const TOP12_PIO4 = abstop12(hexf('0x1.921FB54442D18p-1'))
const TOP12_2M12 = abstop12(hexf('0x1p-12'))
const TOP12_120 = abstop12(120)
const MASK64 = (1n << 64n) - 1n

// sin(x) (n even) or cos(x) (n odd) of a reduced x with x2 = x², as glibc's sinf_poly.
function sinfPoly (x: number, x2: number, p: SinCosTable, n: number): number {
  if ((n & 1) === 0) {
    const x3 = x * x2
    const s1 = fma(x2, p.s3, p.s2)
    const x7 = x3 * x2
    const s = fma(x3, p.s1, x)
    return Math.fround(fma(x7, s1, s))
  }
  const x4 = x2 * x2
  const c2 = fma(x2, p.c4, p.c3)
  const c1 = fma(x2, p.c1, p.c0)
  const x6 = x4 * x2
  const c = fma(x4, p.c2, c1)
  return Math.fround(fma(x6, c2, c))
}

// |x| < 120: x − n·π/2 with one fused multiply-subtract; n = quadrant.
function reduceFast (x: number, p: SinCosTable): { x: number, n: number } {
  const r = x * p.hpiInv
  const n = ((Math.trunc(r) + 0x800000) >> 24)
  return { x: fma(-n, p.hpi, x), n }
}

// |x| ≥ 120: exact fixed-point reduction with 4/π (xi = float bits, sign ignored).
function reduceLarge (xi: number): { x: number, n: number } {
  const base = (xi >>> 26) & 15
  const shift = (xi >>> 23) & 7
  const m = BigInt(((xi & 0xffffff) | 0x800000) << shift >>> 0)
  let res0 = (m * INV_PIO4[base]) & 0xffffffffn // a 32-bit product in C
  const res1 = m * INV_PIO4[base + 4]
  const res2 = m * INV_PIO4[base + 8]
  res0 = ((res2 >> 32n) | (res0 << 32n)) & MASK64
  res0 = (res0 + res1) & MASK64
  const n = (res0 + (1n << 61n)) >> 62n
  res0 = (res0 - (n << 62n)) & MASK64
  return { x: Number(BigInt.asIntN(64, res0)) * PI64, n: Number(n) }
}

function sincosf (y: number, cos: boolean): number {
  const top = abstop12(y)
  if (top < TOP12_PIO4) {
    if (top < TOP12_2M12) return cos ? 1 : y
    return sinfPoly(y, y * y, TABLE[0], cos ? 1 : 0)
  }
  if (top < TOP12_120) {
    const { x, n } = reduceFast(y, TABLE[0])
    const s = SIGN[n & 3]
    return sinfPoly(x * s, x * x, TABLE[(n & 2) !== 0 ? 1 : 0], cos ? n ^ 1 : n)
  }
  if (top < 0x7f8) {
    const xi = asuint(y)
    const sign = xi >>> 31
    const { x, n } = reduceLarge(xi)
    const s = SIGN[(n + sign) & 3]
    return sinfPoly(x * s, x * x, TABLE[((n + sign) & 2) !== 0 ? 1 : 0], cos ? n ^ 1 : n)
  }
  return Number.NaN
}

/** glibc's sinf(y) for a float32 y. */
export function sinf (y: number): number {
  return sincosf(y, false)
}

/** glibc's cosf(y) for a float32 y. */
export function cosf (y: number): number {
  return sincosf(y, true)
}
