/**
 * The settings slice: sampling (temperature, top-p, max new tokens), the relay address,
 * the donor's CPU budget and "pause when hidden" choice, and local mode. Persisted in localStorage
 * (small, synchronous, read before the first render); every value is checked on load, so
 * a hand-edited or stale entry falls back to the default instead of breaking the page.
 */
import { createStore } from 'zustand/vanilla'

/** The user's choices; always valid, because every write goes through {@link sanitizeSettings} (bounds: {@link SETTING_BOUNDS}). */
export interface Settings {
  /** 0 = greedy (the same prompt gives the same answer). */
  readonly temperature: number
  /** Top-p (nucleus) sampling: sample only among the most likely tokens covering this share of probability (0 or 1: no cut, as run.c); unused when temperature is 0. */
  readonly topp: number
  /** New tokens per answer (the prompt is not counted). */
  readonly maxTokens: number
  /** Relay multiaddr chosen by the user; '' = the one the server announces in /cerberus.json. */
  readonly relay: string
  /** Web Workers the donor may use (its CPU budget). */
  readonly donorWorkers: number
  /** Pause the donor while this tab is hidden, and resume it when the tab is shown again. */
  readonly pauseWhenHidden: boolean
  /**
   * Local mode ("Generate on this device"): answers are computed in this tab, in plaintext —
   * nothing leaves the device, so nothing needs encrypting. For when no miner serves the
   * model, or when the user prefers it.
   */
  readonly localMode: boolean
}

/**
 * Bounds of each number, and why: temperature above 2 is noise for these models; the
 * default model's context is 512 positions, so more new tokens than that cannot be made.
 */
export const SETTING_BOUNDS = Object.freeze({
  temperature: { min: 0, max: 2, step: 0.1 },
  topp: { min: 0, max: 1, step: 0.05 },
  maxTokens: { min: 1, max: 512, step: 1 },
  donorWorkers: { min: 1, max: 64, step: 1 }
})

/**
 * run.c's sampling defaults (temperature 1.0, top-p 0.9); 64 new tokens is a few seconds
 * of encrypted generation with stories260K. One donor worker by default: donating should
 * not make the donor's own machine sluggish unless they ask for more.
 */
export const DEFAULT_SETTINGS: Settings = Object.freeze({ temperature: 1, topp: 0.9, maxTokens: 64, relay: '', donorWorkers: 1, pauseWhenHidden: true, localMode: false })

/** localStorage key (versioned: a new shape gets a new key). */
export const SETTINGS_KEY = 'cerberus.settings.v1'

/** The settings slice: the defaults until {@link bindSettingsStorage} loads the saved ones. Write through {@link updateSettings}, so values stay sanitized. */
export const settingsStore = createStore<Settings>()(() => DEFAULT_SETTINGS)

type NumberKey = keyof typeof SETTING_BOUNDS

function clampNumber (key: NumberKey, v: unknown, fallback: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return fallback
  const b = SETTING_BOUNDS[key]
  const clamped = Math.min(b.max, Math.max(b.min, v))
  return key === 'maxTokens' || key === 'donorWorkers' ? Math.round(clamped) : clamped
}

/** Any value -> valid settings (unknown or out-of-range fields take their default). */
export function sanitizeSettings (raw: unknown): Settings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  const d = DEFAULT_SETTINGS
  return {
    temperature: clampNumber('temperature', r.temperature, d.temperature),
    topp: clampNumber('topp', r.topp, d.topp),
    maxTokens: clampNumber('maxTokens', r.maxTokens, d.maxTokens),
    relay: typeof r.relay === 'string' ? r.relay.trim() : d.relay,
    donorWorkers: clampNumber('donorWorkers', r.donorWorkers, d.donorWorkers),
    pauseWhenHidden: typeof r.pauseWhenHidden === 'boolean' ? r.pauseWhenHidden : d.pauseWhenHidden,
    localMode: typeof r.localMode === 'boolean' ? r.localMode : d.localMode
  }
}

/** Change some settings (values are sanitized). */
export function updateSettings (patch: Partial<Settings>): void {
  settingsStore.setState(s => sanitizeSettings({ ...s, ...patch }), true)
}

/** The part of `Storage` the settings need. */
export type SettingsStorage = Pick<Storage, 'getItem' | 'setItem'>

/**
 * Load the saved settings from `storage` and save every later change there. Returns the
 * unsubscribe function. A storage that throws (blocked cookies) leaves the defaults, in
 * memory only.
 */
export function bindSettingsStorage (storage: SettingsStorage): () => void {
  try {
    const text = storage.getItem(SETTINGS_KEY)
    if (text !== null) settingsStore.setState(sanitizeSettings(JSON.parse(text)), true)
  } catch {
    // unreadable or unparsable: keep the defaults
  }
  return settingsStore.subscribe(s => {
    try { storage.setItem(SETTINGS_KEY, JSON.stringify(s)) } catch { /* quota or blocked: settings last this session */ }
  })
}

/** Back to the defaults (tests). */
export function resetSettingsStore (): void {
  settingsStore.setState(DEFAULT_SETTINGS, true)
}
