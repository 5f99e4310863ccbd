import { beforeEach, describe, expect, it } from 'vitest'
import { bindSettingsStorage, DEFAULT_SETTINGS, resetSettingsStore, sanitizeSettings, SETTINGS_KEY, settingsStore, updateSettings } from './settings-store.ts'

function memoryStorage (initial: Record<string, string> = {}): { getItem: (k: string) => string | null, setItem: (k: string, v: string) => void, data: Map<string, string> } {
  const data = new Map(Object.entries(initial))
  return { data, getItem: k => data.get(k) ?? null, setItem: (k, v) => { data.set(k, v) } }
}

beforeEach(() => { resetSettingsStore() })

describe('settings', () => {
  it('out-of-range and foreign values fall back or are clamped', () => {
    expect(sanitizeSettings({ temperature: 9, topp: -1, maxTokens: 12.6, relay: ' /ip4/1.2.3.4/tcp/1/ws ', donorWorkers: 0, pauseWhenHidden: 'yes', localMode: 1 }))
      .toEqual({ temperature: 2, topp: 0, maxTokens: 13, relay: '/ip4/1.2.3.4/tcp/1/ws', donorWorkers: 1, pauseWhenHidden: DEFAULT_SETTINGS.pauseWhenHidden, localMode: false })
    expect(sanitizeSettings({ localMode: true }).localMode).toBe(true)
    expect(sanitizeSettings('garbage')).toEqual(DEFAULT_SETTINGS)
    expect(sanitizeSettings({ temperature: Number.NaN })).toEqual(DEFAULT_SETTINGS)
  })

  it('are loaded from storage and every change is saved there', () => {
    const storage = memoryStorage({ [SETTINGS_KEY]: JSON.stringify({ temperature: 0, maxTokens: 20 }) })
    const unbind = bindSettingsStorage(storage)
    expect(settingsStore.getState()).toMatchObject({ temperature: 0, maxTokens: 20, topp: DEFAULT_SETTINGS.topp })
    updateSettings({ topp: 0.5 })
    expect(JSON.parse(storage.data.get(SETTINGS_KEY) as string)).toMatchObject({ temperature: 0, maxTokens: 20, topp: 0.5 })
    unbind()
  })

  it('unparsable or throwing storage leaves the defaults', () => {
    bindSettingsStorage(memoryStorage({ [SETTINGS_KEY]: '{not json' }))()
    expect(settingsStore.getState()).toEqual(DEFAULT_SETTINGS)
    const unbind = bindSettingsStorage({ getItem: () => { throw new Error('SecurityError') }, setItem: () => { throw new Error('SecurityError') } })
    updateSettings({ temperature: 0.3 })
    expect(settingsStore.getState().temperature).toBe(0.3)
    unbind()
  })
})
