/**
 * Float32 arithmetic as C computes it, for the deliberately exact reference path.
 *
 * JavaScript numbers are float64. For +, −, ×, ÷ and √ of float32 operands, computing in
 * float64 and rounding once to float32 (`Math.fround`) gives the correctly rounded
 * float32 result, i.e. exactly what IEEE float32 hardware gives (float64 has more than
 * 2·24+2 significand bits). So `f32(a * b)` *is* C's `a * b` on floats, as long as the C
 * compiler does not contract `a*b+c` into an FMA; gcc -O3 without -march=native does not
 * on x86-64, which is how run.c is built.
 *
 * The transcendental functions are glibc's own algorithms (libm-f32.ts), because glibc's
 * expf/sinf/cosf are not correctly rounded and run.c's results depend on their exact bits.
 * powf is only used for RoPE frequencies 10000^(i/head_size), where `f32(Math.pow)`
 * equals glibc's powf for every head size up to 256 (checked against glibc).
 */
export { cosf, expf, sinf } from './libm-f32.ts'

/** Round to float32. */
export const f32 = Math.fround

/**
 * C's powf(base, e) for RoPE exponents e = i/head_size. Checked against glibc for base
 * 10000 (run.c's); other bases (GGUF models' `rope.freq_base`) are not, which only
 * matters for the bit-exact engine, and no C reference exists for those models.
 */
export function powf (base: number, e: number): number {
  return Math.fround(Math.pow(base, e))
}
