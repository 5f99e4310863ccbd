/**
 * The user job mix: how a visit of a user looks from a miner — how many answers, how long
 * each, what prompt, how long she reads and types in between. Validators draw their visits
 * from it, so that what a miner sees of a validator's session (the sizes, counts and timing
 * of its jobs come from the same pipeline run on the same kind of answer) is what it sees
 * of a user's. It is a model of users, not a measurement: the chat's defaults (64 new
 * tokens, temperature 1, top-p 0.9, src/ui/state/settings-store.ts) dominate it, because
 * most people never change them; a deployment that measures its users (in aggregate, on
 * their own machines) should replace these numbers with what it measured.
 */

/** A distribution of visits. */
export interface UserMix {
  /** Text-like prompts for the model (stories260K was trained on children's stories). */
  readonly prompts: readonly string[]
  /** New tokens per answer: `defaultTokens` with probability `defaultShare`, else uniform in `tokens` (inclusive). */
  readonly defaultTokens: number
  readonly defaultShare: number
  readonly tokens: readonly [number, number]
  /** Answers per visit, uniform in the range (inclusive). */
  readonly answers: readonly [number, number]
  /** Time before each answer (reading, typing), uniform in [0.5, 1.5] × this, ms. */
  readonly thinkMs: number
  /** Sampling temperature: the default with probability `defaultShare`, else uniform in [0, 1.5]. */
  readonly temperature: number
}

/** Openings of the kind of text stories260K continues (TinyStories-like). */
const PROMPTS: readonly string[] = [
  'Once upon a time',
  'Once upon a time, there was a little girl named Lily.',
  'One day, a boy named Tom went to the park.',
  'The sun was shining and the birds were singing.',
  'Sara had a red ball.',
  'There was a big dog who liked to play.',
  'Ben and his mom went to the store to buy some food.',
  'Lily wanted to help her friend.',
  'The cat sat on the mat and looked at the fish.',
  'A little bird lived in a tree.',
  'Tim found a shiny stone in the garden.',
  'It was a cold day.',
  'Mia liked to draw pictures of her family.',
  'The little car could go very fast.',
  'Anna was sad because she lost her toy.',
  'Max and Sue built a tower of blocks.',
  'Once there was a kind old man who lived by the sea.',
  'The frog jumped into the pond.',
  'Jack had a new bike.',
  'One morning, the little bear woke up hungry.'
]

/** The mix validators use by default. */
export const USER_MIX: UserMix = Object.freeze({
  prompts: PROMPTS,
  defaultTokens: 64,
  defaultShare: 0.7,
  tokens: [8, 128] as const,
  answers: [1, 4] as const,
  thinkMs: 30_000,
  temperature: 1
})

/** One answer of a visit. */
export interface DrawnAnswer {
  readonly prompt: string
  readonly maxTokens: number
  readonly temperature: number
  /** The sampler's seed. */
  readonly seed: number
  /** Wait this long before asking, ms. */
  readonly thinkMs: number
}

/** Uniform numbers in [0, 1) from crypto (a validator's draws must not be predictable by miners). */
export function cryptoRandom (): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 4294967296
}

const between = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1))

/** One visit drawn from `mix`. */
export function drawVisit (mix: UserMix, random: () => number = cryptoRandom): DrawnAnswer[] {
  const n = between(random, mix.answers[0], mix.answers[1])
  return Array.from({ length: n }, () => ({
    prompt: mix.prompts[Math.floor(random() * mix.prompts.length)],
    maxTokens: random() < mix.defaultShare ? mix.defaultTokens : between(random, mix.tokens[0], mix.tokens[1]),
    temperature: random() < mix.defaultShare ? mix.temperature : Math.round(random() * 15) / 10,
    seed: 1 + Math.floor(random() * 0x7fffffff),
    thinkMs: Math.round(mix.thinkMs * (0.5 + random()))
  }))
}
