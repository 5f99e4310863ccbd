/**
 * The generation slice: the form's settings, the run's status, the streamed text, and
 * how the last run ended. A vanilla zustand store with its actions as plain functions,
 * so the worker glue can call them without React (zustand "practice with no store
 * actions"); components read it through `useGeneration` (`hooks.ts`).
 */
import { createStore } from 'zustand/vanilla'
import type { EngineKind } from '../../core/model/index.ts'
import type { GenerateResult, SerializedError } from '../../workers/generate-protocol.ts'

/** The form, as typed: numbers stay text until Generate parses them. */
export interface GenerationSettings {
  readonly prompt: string
  readonly steps: string
  readonly temperature: string
  readonly engine: EngineKind
}

/** `stopping`: Stop was pressed, the worker has not confirmed yet. */
export type RunStatus = 'idle' | 'running' | 'stopping'

/** How the last run ended. */
export interface RunSummary extends GenerateResult {
  readonly engine: EngineKind
}

/** Everything in the generation slice. */
export interface GenerationState {
  readonly settings: GenerationSettings
  readonly status: RunStatus
  /** Text of the current or last run. */
  readonly output: string
  readonly lastRun: RunSummary | null
  readonly error: SerializedError | null
}

/** Defaults of the form: run.c's 256 steps, greedy, run.c's exact float32 arithmetic. */
export const DEFAULT_SETTINGS: GenerationSettings = { prompt: '', steps: '256', temperature: '0', engine: 'f32' }

const initialState: GenerationState = { settings: DEFAULT_SETTINGS, status: 'idle', output: '', lastRun: null, error: null }

/** The store itself; prefer the functions below to `setState`. */
export const generationStore = createStore<GenerationState>()(() => initialState)

/** Change one field of the form. */
export function setSetting<K extends keyof GenerationSettings> (key: K, value: GenerationSettings[K]): void {
  generationStore.setState((s) => ({ settings: { ...s.settings, [key]: value } }))
}

/** A run starts: clear the previous text, result and error. */
export function beginRun (): void {
  generationStore.setState({ status: 'running', output: '', lastRun: null, error: null })
}

/** Append streamed text. */
export function appendOutput (text: string): void {
  generationStore.setState((s) => ({ output: s.output + text }))
}

/** Stop was pressed; the run ends when the worker says so. */
export function markStopping (): void {
  generationStore.setState((s) => (s.status === 'running' ? { status: 'stopping' } : {}))
}

/** The run ended (completely or stopped). */
export function finishRun (summary: RunSummary): void {
  generationStore.setState({ status: 'idle', lastRun: summary })
}

/** The run failed; the text streamed so far stays. */
export function failRun (error: SerializedError): void {
  generationStore.setState({ status: 'idle', error })
}

/** Back to the initial state (tests). */
export function resetGenerationStore (): void {
  generationStore.setState(initialState, true)
}
