/**
 * Tokens per second of each answer, for the network panel's plot: one sample per
 * finished answer (tokens / ms from its receipt), the latest {@link MAX_SPEED_SAMPLES}.
 */
import { createStore } from 'zustand/vanilla'
import type { AnswerReceipt } from '../../app/types.ts'

/** Enough points for a readable line in a panel a few hundred pixels wide. */
export const MAX_SPEED_SAMPLES = 60

/** One answer's speed, from its receipt. */
export interface SpeedSample {
  /** ms since epoch when the answer ended. */
  readonly at: number
  /** The receipt's new tokens over its wall time (`ms`), which also covers reading the prompt and every round trip to the miners. */
  readonly tokensPerSecond: number
}

/** The speed slice's state. */
export interface SpeedState {
  /** Oldest first; at most {@link MAX_SPEED_SAMPLES}, the oldest dropped first. */
  readonly samples: readonly SpeedSample[]
}

/** The speed slice: appended by {@link recordAnswerSpeed} when an answer resolves, read by the network panel through `useSpeed`. */
export const speedStore = createStore<SpeedState>()(() => ({ samples: [] }))

/** Record an answer (answers with no tokens say nothing about speed and are skipped). */
export function recordAnswerSpeed (receipt: Pick<AnswerReceipt, 'tokens' | 'ms'>, at = Date.now()): void {
  if (receipt.tokens <= 0 || receipt.ms <= 0) return
  const sample = { at, tokensPerSecond: receipt.tokens / (receipt.ms / 1000) }
  speedStore.setState(s => ({ samples: [...s.samples, sample].slice(-MAX_SPEED_SAMPLES) }))
}

/** Back to the initial state (tests). */
export function resetSpeedStore (): void {
  speedStore.setState({ samples: [] }, true)
}
