/**
 * The model slice: which model the worker uses, and the outcome of loading user files.
 * Vanilla store, actions as plain functions (see `generation-store.ts`).
 */
import { createStore } from 'zustand/vanilla'
import type { ModelSummary, SerializedError } from '../../workers/generate-protocol.ts'

/** Everything in the model slice. */
export interface ModelState {
  /** The model in use, or null until the first generation (or file load) brings one. */
  readonly model: ModelSummary | null
  /** True while picked files are read and parsed. */
  readonly loading: boolean
  /** Why the last file load failed; the previous model stays in use. */
  readonly error: SerializedError | null
}

const initialState: ModelState = { model: null, loading: false, error: null }

/** The store itself; prefer the functions below to `setState`. */
export const modelStore = createStore<ModelState>()(() => initialState)

/** Picked files are being loaded. */
export function beginModelLoad (): void {
  modelStore.setState({ loading: true, error: null })
}

/** The worker now uses `model` (a picked file, or the default it fetched). */
export function setModel (model: ModelSummary): void {
  modelStore.setState({ model, loading: false, error: null })
}

/** Loading picked files failed. */
export function failModelLoad (error: SerializedError): void {
  modelStore.setState({ loading: false, error })
}

/** Back to the initial state (tests). */
export function resetModelStore (): void {
  modelStore.setState(initialState, true)
}
