/**
 * `bench mesh --prompt-tokens`: the prompt it sends (about N tokens for the model's
 * tokenizer) and what it reports of the first token against the tokens after it.
 */
import type { AnswerReceipt } from '../app/index.ts'
import { encode, type Tokenizer } from '../core/model/index.ts'

/** A run's time-to-first-token fields (absent without a prompt). */
export interface FirstTokenFields {
  readonly firstTokenMs?: number
  readonly heLocalFirstTokenMs?: number
  readonly decodeMsPerToken?: number
  readonly firstTokenVsOneByOne?: number
}

/**
 * A prompt of about `n` tokens for `tokenizer` (BOS not counted): the longest run of `words`
 * (cycled) that encodes to at most `n`, then as much of the next word as still fits (merges
 * may leave it a token short).
 */
export function promptOfTokens (tokenizer: Tokenizer, n: number, words: readonly string[]): string {
  if (n <= 0 || words.length === 0) return ''
  const fits = (text: string): boolean => encode(tokenizer, text).length - 1 <= n
  let best = ''
  // each word adds at least one token: at most n words
  let k = 0
  for (; k < n; k++) {
    const text = best === '' ? words[k % words.length] : `${best} ${words[k % words.length]}`
    if (!fits(text)) break
    best = text
  }
  const next = words[k % words.length]
  for (let c = next.length - 1; c > 0; c--) {
    const text = best === '' ? next.slice(0, c) : `${best} ${next.slice(0, c)}`
    if (fits(text)) return text
  }
  return best
}

/** Words of a prompt for each model (a story for stories260K; the synthetic tokenizer's own words). */
export const PROMPT_WORDS = {
  stories: 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends and her dog.'.split(' '),
  synthetic: Array.from({ length: 64 }, (_, i) => `w${300 + i}`)
}

/** With a prompt: time to the first token against the rate of the tokens after it (same run). */
export function firstTokenFields (steady: AnswerReceipt, heLocal: AnswerReceipt): FirstTokenFields {
  const first = steady.firstTokenMs
  if ((steady.promptTokens ?? 0) === 0 || first === undefined || steady.tokens < 2) return {}
  const decode = (steady.ms - first) / (steady.tokens - 1)
  return {
    firstTokenMs: first,
    ...(heLocal.firstTokenMs === undefined ? {} : { heLocalFirstTokenMs: heLocal.firstTokenMs }),
    decodeMsPerToken: decode,
    firstTokenVsOneByOne: first / ((1 + (steady.promptTokens ?? 0)) * decode)
  }
}

