/**
 * Special tokens written in text ("<|im_start|>", "</s>") are cut out before the text is
 * tokenized, as llama.cpp's `tokenizer_st_partition` does (src/llama-vocab.cpp): the
 * special tokens are tried longest first, and each one splits every stretch of plain text
 * left at its occurrences, left to right.
 */

/** GGUF token types (llama.cpp `llama_token_type`). */
export const TOKEN_TYPES = Object.freeze({ UNDEFINED: 0, NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 })

/** A piece of partitioned text: plain text to tokenize, or a special token's id. */
export type Fragment = string | number

/** A special token: its text and id. */
export interface SpecialToken {
  readonly text: string
  readonly id: number
}

/**
 * The tokens text may spell out: user-defined ones always (llama.cpp matches them even
 * without parse_special), control and unknown ones only when `special` is asked for.
 * Each list is sorted longest first (ties by id).
 */
export function specialTokenLists (tokens: readonly string[], types: ArrayLike<number>): { always: SpecialToken[], special: SpecialToken[] } {
  const always: SpecialToken[] = []
  const special: SpecialToken[] = []
  for (let id = 0; id < tokens.length; id++) {
    const t = types[id]
    if (tokens[id] === '') continue
    if (t === TOKEN_TYPES.USER_DEFINED) { always.push({ text: tokens[id], id }); special.push({ text: tokens[id], id }) }
    if (t === TOKEN_TYPES.CONTROL || t === TOKEN_TYPES.UNKNOWN) special.push({ text: tokens[id], id })
  }
  const byLength = (a: SpecialToken, b: SpecialToken): number => b.text.length - a.text.length || a.id - b.id
  return { always: always.sort(byLength), special: special.sort(byLength) }
}

/** Cut the special tokens out of `text`. */
export function partitionSpecial (text: string, specials: readonly SpecialToken[]): Fragment[] {
  let fragments: Fragment[] = [text]
  for (const s of specials) {
    if (!text.includes(s.text)) continue
    const next: Fragment[] = []
    for (const f of fragments) {
      if (typeof f === 'number') { next.push(f); continue }
      let from = 0
      for (let at = f.indexOf(s.text); at !== -1; at = f.indexOf(s.text, from)) {
        if (at > from) next.push(f.slice(from, at))
        next.push(s.id)
        from = at + s.text.length
      }
      if (from < f.length) next.push(f.slice(from))
    }
    fragments = next
  }
  return fragments
}
