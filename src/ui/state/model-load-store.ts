/**
 * The model-load slice: a user's request to switch models (files or URLs) and how it
 * ended. Progress itself comes from the client (its `progress`); this slice keeps the
 * error where the user asked, beside the model picker.
 */
import { createStore } from 'zustand/vanilla'
import type { ErrorView } from '../errors.ts'

/** The model-load slice's state; components read it through `useModelLoad`. */
export interface ModelLoadState {
  /** A switch is under way: the picker is disabled and prompts wait ("Switching models…"). */
  readonly busy: boolean
  /** Why the last switch failed; cleared when the next one begins or one succeeds. */
  readonly error: ErrorView | null
  /** What was last loaded successfully, for the panel ("stories15M.bin from your files"). */
  readonly loadedFrom: 'default' | 'files' | 'url'
}

const initialState: ModelLoadState = { busy: false, error: null, loadedFrom: 'default' }

/** The model-load slice; written only by the runtime's `model.load`, through the three functions below. */
export const modelLoadStore = createStore<ModelLoadState>()(() => initialState)

/** A switch began: busy, and the previous switch's error cleared. */
export function beginModelLoad (): void {
  modelLoadStore.setState({ busy: true, error: null })
}

/** The switch succeeded; `from` is the source's kind, shown beside the model's name. */
export function finishModelLoad (from: ModelLoadState['loadedFrom']): void {
  modelLoadStore.setState({ busy: false, error: null, loadedFrom: from })
}

/** The switch failed: no longer busy, `error` shown in the model panel; `loadedFrom` still names the last model that loaded. */
export function failModelLoad (error: ErrorView): void {
  modelLoadStore.setState({ busy: false, error })
}
