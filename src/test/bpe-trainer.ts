/**
 * Test helper: trains a byte-level BPE vocabulary (GPT-2's scheme) on a text corpus, so
 * that a SmolLM2-shaped fixture can carry a real-looking 49,152-token vocabulary with its
 * merges without the real one (which cannot be downloaded here). Words come from the same
 * pre-tokenizer the model names; the most frequent adjacent pair merges next (ties: the
 * pair first seen), as Hugging Face's trainer does in spirit. The tokenizer under test is
 * then checked against llama.cpp on this vocabulary, so the trainer's choices only have to
 * be deterministic, not identical to SmolLM2's.
 */
import { BYTE_TO_UNICODE } from '../core/model/bpe-tokenizer.ts'
import { preTokenize, type PreTokenizer } from '../core/model/pre-tokenizers.ts'

/** A trained vocabulary: the 256 byte characters (in code point order), then one token per merge. */
export interface TrainedBpe {
  readonly tokens: string[]
  readonly merges: string[]
}

/** Pair keys pack two symbol ids; ids stay below 2^20. */
const KEY = 1 << 20

/** A max-heap of (count, first-seen order, key) with lazy deletion. */
class PairHeap {
  private readonly count: number[] = []
  private readonly order: number[] = []
  private readonly key: number[] = []
  get size (): number { return this.key.length }
  private above (i: number, j: number): boolean {
    return this.count[i] > this.count[j] || (this.count[i] === this.count[j] && this.order[i] < this.order[j])
  }

  private swap (i: number, j: number): void {
    for (const a of [this.count, this.order, this.key]) { const t = a[i]; a[i] = a[j]; a[j] = t }
  }

  push (count: number, order: number, key: number): void {
    this.count.push(count); this.order.push(order); this.key.push(key)
    for (let i = this.key.length - 1; i > 0;) {
      const p = (i - 1) >> 1
      if (!this.above(i, p)) break
      this.swap(i, p)
      i = p
    }
  }

  pop (): [count: number, key: number] {
    const top: [number, number] = [this.count[0], this.key[0]]
    const n = this.key.length - 1
    this.swap(0, n)
    this.count.pop(); this.order.pop(); this.key.pop()
    for (let i = 0; ;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.above(l, m)) m = l
      if (r < n && this.above(r, m)) m = r
      if (m === i) break
      this.swap(i, m)
      i = m
    }
    return top
  }
}

/** Train `merges` merges on `corpus`, split into words by `pre`. */
export function trainBpe (corpus: string, pre: PreTokenizer, merges: number): TrainedBpe {
  const alphabet = [...BYTE_TO_UNICODE].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0))
  const symbolOfChar = new Map(alphabet.map((c, i) => [c, i]))
  const tokens = [...alphabet]
  const enc = new TextEncoder()
  const counts = new Map<string, number>()
  for (const w of preTokenize(pre, corpus)) counts.set(w, (counts.get(w) ?? 0) + 1)
  const words: number[][] = []
  const freq: number[] = []
  for (const [w, n] of counts) {
    words.push(Array.from(enc.encode(w), b => symbolOfChar.get(BYTE_TO_UNICODE[b]) as number))
    freq.push(n)
  }
  const pairCount = new Map<number, number>()
  const pairOrder = new Map<number, number>()
  const pairWords = new Map<number, Set<number>>()
  const heap = new PairHeap()
  const touched = new Set<number>()
  const addPairs = (w: number, sign: number): void => {
    const s = words[w]
    for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i] * KEY + s[i + 1]
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[w])
      if (!pairOrder.has(k)) pairOrder.set(k, pairOrder.size)
      if (sign > 0) {
        let set = pairWords.get(k)
        if (set === undefined) pairWords.set(k, (set = new Set()))
        set.add(w)
      }
      touched.add(k)
    }
  }
  const flush = (): void => {
    for (const k of touched) heap.push(pairCount.get(k) ?? 0, pairOrder.get(k) ?? 0, k)
    touched.clear()
  }
  words.forEach((_, w) => { addPairs(w, 1) })
  flush()
  const out: string[] = []
  while (out.length < merges && heap.size > 0) {
    const [count, key] = heap.pop()
    if (count <= 0 || pairCount.get(key) !== count) continue
    const a = Math.floor(key / KEY)
    const b = key % KEY
    const id = tokens.length
    tokens.push(tokens[a] + tokens[b])
    out.push(`${tokens[a]} ${tokens[b]}`)
    for (const w of pairWords.get(key) ?? []) {
      const s = words[w]
      let hit = false
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) { hit = true; break }
      if (!hit) continue
      addPairs(w, -1)
      const merged: number[] = []
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { merged.push(id); i++ } else merged.push(s[i])
      }
      words[w] = merged
      addPairs(w, 1)
    }
    pairWords.delete(key)
    flush()
  }
  return { tokens, merges: out }
}
