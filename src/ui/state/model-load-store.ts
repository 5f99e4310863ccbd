/**
 * The model-load slice: a user's request to switch models (files or URLs) and how it
 * ended. Progress itself comes from the client (its `progress`); this slice keeps the
 * error where the user asked, beside the model picker.
 */
import { createStore } from 'zustand/vanilla'
import type { ErrorView } from '../errors.ts'

export interface ModelLoadState {
  readonly busy: boolean
  readonly error: ErrorView | null
  /** What was last loaded successfully, for the panel ("stories15M.bin from your files"). */
  readonly loadedFrom: 'default' | 'files' | 'url'
}

const initialState: ModelLoadState = { busy: false, error: null, loadedFrom: 'default' }

export const modelLoadStore = createStore<ModelLoadState>()(() => initialState)

export function beginModelLoad (): void {
  modelLoadStore.setState({ busy: true, error: null })
}

export function finishModelLoad (from: ModelLoadState['loadedFrom']): void {
  modelLoadStore.setState({ busy: false, error: null, loadedFrom: from })
}

export function failModelLoad (error: ErrorView): void {
  modelLoadStore.setState({ busy: false, error })
}
