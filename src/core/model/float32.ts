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
 * The transcendental functions differ: glibc's expf/sinf/cosf/powf are not always
 * correctly rounded, while `f32(Math.exp(x))` nearly always is. Measured here against
 * glibc 2.36 (FMA variants): expf differs in 0.06 % of inputs, sinf/cosf on RoPE angles in
 * about 1.3 %, always by one unit in the last place. See docs/02-the-model.md for what
 * that means for exactness.
 */
export const f32 = Math.fround

/** C's expf(x) to within one ulp (see the module note). */
export function expf (x: number): number {
  return Math.fround(Math.exp(x))
}
