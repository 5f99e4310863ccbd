/**
 * ggml's tensor types: their numbers in GGUF files, block sizes and bytes per block, so
 * that the layout of a file can be validated even when a tensor's type is one Cerberus
 * does not read. Source: ggml-org/ggml `include/ggml.h` (`enum ggml_type`) and
 * `src/ggml.c` (`type_traits`); the table is checked against llama.cpp's own
 * (node-llama-cpp's binding) in gguf-reference.test.ts. Numbers 4, 5 and 31–33, 36–38 are
 * types ggml has removed.
 */

/** One ggml tensor type. */
export interface GgmlType {
  readonly id: number
  readonly name: string
  /** Elements per block (1 for plain types). */
  readonly blockSize: number
  /** Bytes per block. */
  readonly typeSize: number
}

const TYPES: readonly GgmlType[] = [
  [0, 'F32', 1, 4], [1, 'F16', 1, 2], [2, 'Q4_0', 32, 18], [3, 'Q4_1', 32, 20],
  [6, 'Q5_0', 32, 22], [7, 'Q5_1', 32, 24], [8, 'Q8_0', 32, 34], [9, 'Q8_1', 32, 36],
  [10, 'Q2_K', 256, 84], [11, 'Q3_K', 256, 110], [12, 'Q4_K', 256, 144], [13, 'Q5_K', 256, 176],
  [14, 'Q6_K', 256, 210], [15, 'Q8_K', 256, 292], [16, 'IQ2_XXS', 256, 66], [17, 'IQ2_XS', 256, 74],
  [18, 'IQ3_XXS', 256, 98], [19, 'IQ1_S', 256, 50], [20, 'IQ4_NL', 32, 18], [21, 'IQ3_S', 256, 110],
  [22, 'IQ2_S', 256, 82], [23, 'IQ4_XS', 256, 136], [24, 'I8', 1, 1], [25, 'I16', 1, 2],
  [26, 'I32', 1, 4], [27, 'I64', 1, 8], [28, 'F64', 1, 8], [29, 'IQ1_M', 256, 56],
  [30, 'BF16', 1, 2], [34, 'TQ1_0', 256, 54], [35, 'TQ2_0', 256, 66], [39, 'MXFP4', 32, 17]
].map(([id, name, blockSize, typeSize]) => Object.freeze({ id, name, blockSize, typeSize }) as GgmlType)

const BY_ID = new Map(TYPES.map(t => [t.id, t]))

/** Every ggml type this table knows. */
export const GGML_TYPES: readonly GgmlType[] = TYPES

/** The types whose data Cerberus reads (plain ones exactly; Q4_0/Q4_K dequantized). */
export const GGML_READABLE = Object.freeze({ F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, BF16: 30 } as const)

/** The type with number `id`, or undefined when ggml defines none. */
export function ggmlType (id: number): GgmlType | undefined {
  return BY_ID.get(id)
}

/** The type named `name` (e.g. "Q8_0"). */
export function ggmlTypeByName (name: string): GgmlType | undefined {
  return TYPES.find(t => t.name === name)
}

/** Bytes a tensor of `elements` elements takes (elements must be whole blocks). */
export function tensorByteLength (t: GgmlType, elements: number): number {
  return (elements / t.blockSize) * t.typeSize
}
