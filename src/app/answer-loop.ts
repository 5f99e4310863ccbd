/**
 * One answer's loop, shared by private generation (encrypted linear layers on miners) and
 * local generation (the same plan's plaintext twin on this device): run.c's step count from
 * a number of new tokens, the seed rule, the sampler, the answer's text as UTF-8-safe
 * deltas, and a stop by the caller that keeps what was done.
 */
import { generateAsync, type AsyncLogitsEngine } from '../core/engine/index.ts'
import { createRng, createSampler, encode, type Checkpoint, type GeneratedToken, type Tokenizer } from '../core/model/index.ts'

/** How one answer is sampled and how long it may be. */
export interface GenerationSettings {
  /** 0 = greedy. */
  readonly temperature: number
  readonly topp: number
  /** run.c's RNG seed; default time-based. 0 means 1 (run.c replaces 0 by the clock before). */
  readonly seed?: bigint | number
  /** New tokens after the prompt (capped by the context). Ignored when `steps` is given. */
  readonly maxTokens?: number
  /** run.c's -n: positions to run, prompt included (0 = the whole context). */
  readonly steps?: number
  /**
   * The prompt is a rendered chat template: turn the special tokens written in it
   * ("<|im_start|>") into their ids. Default false: a user's text never becomes control tokens.
   */
  readonly specialTokens?: boolean
}

/** Callbacks and cancellation of one answer. */
export interface GenerationCallbacks {
  /** Aborting stops between linear layers; the answer resolves with a receipt marked `stopped`. */
  readonly signal?: AbortSignal
  /** The answer's text as it grows, as UTF-8-safe deltas (the prompt is not echoed). */
  readonly onText?: (delta: string) => void
  /** Every token, prompt tokens included, with the bytes run.c prints for it. */
  readonly onToken?: (t: GeneratedToken) => void
}

/** A model with its tokenizer, ready to squeeze. */
export interface GenerationModel {
  readonly ckpt: Checkpoint
  readonly tokenizer: Tokenizer
  /** Hex SHA-256 of the model file, when known: its plans are remembered under it (plan-memo.ts). */
  readonly sha256?: string
}

/** What one run of the loop did. */
export interface AnswerRun {
  /** New tokens (the prompt's are not counted). */
  readonly tokens: number
  readonly ms: number
  /** True when the caller's signal stopped it before its end. */
  readonly stopped: boolean
  /** The prompt's tokens (BOS not counted): the first new token came after a pass over these and BOS. */
  readonly promptTokens: number
  /** ms from the start to the first new token (the prompt's pass and one sampling); absent when none came. */
  readonly firstTokenMs?: number
}

/** The prompt's tokens, BOS included (special tokens parsed only for a rendered chat template). */
export function promptTokens (tokenizer: Tokenizer, prompt: string, specialTokens = false): number[] {
  return specialTokens ? tokenizer.encode(prompt, { special: true }) : encode(tokenizer, prompt)
}

/** Positions to run for `settings` (run.c's -n): the prompt's tokens, BOS included, plus the new ones, within the context. */
export function answerSteps (model: GenerationModel, prompt: string, settings: GenerationSettings): number {
  const seqLen = model.ckpt.config.seqLen
  return settings.steps ?? Math.min(seqLen, promptTokens(model.tokenizer, prompt, settings.specialTokens).length - 1 + Math.max(1, settings.maxTokens ?? seqLen))
}

/**
 * Generate one answer with `engine`. Rejects on the engine's errors; resolves with
 * `stopped` when `cb.signal` aborted it (the text so far was delivered).
 */
export async function runAnswer (engine: AsyncLogitsEngine, model: GenerationModel, prompt: string, settings: GenerationSettings, cb: GenerationCallbacks = {}): Promise<AnswerRun> {
  const t0 = performance.now()
  let tokens = 0
  let prompted = 0
  let firstTokenMs: number | undefined
  let stopped = false
  try {
    const seed = settings.seed ?? (Date.now() >>> 0)
    const sampler = createSampler({ temperature: settings.temperature, topp: settings.topp }, createRng(BigInt(seed) === 0n ? 1 : seed))
    const decoder = new TextDecoder()
    for await (const t of generateAsync(engine, model.tokenizer, sampler, { prompt, ...(settings.specialTokens === true ? { promptTokens: promptTokens(model.tokenizer, prompt, true) } : {}), steps: answerSteps(model, prompt, settings), signal: cb.signal })) {
      cb.onToken?.(t)
      if (t.fromPrompt) { prompted++; continue }
      firstTokenMs ??= performance.now() - t0
      tokens++
      const text = decoder.decode(t.bytes, { stream: true })
      if (text !== '') cb.onText?.(text)
    }
    const tail = decoder.decode()
    if (tail !== '') cb.onText?.(tail)
  } catch (err) {
    if (cb.signal?.aborted !== true) throw err
    stopped = true // stopped by the caller: the receipt still says what was done
  }
  return { tokens, ms: performance.now() - t0, stopped, promptTokens: prompted, ...(firstTokenMs === undefined ? {} : { firstTokenMs }) }
}
