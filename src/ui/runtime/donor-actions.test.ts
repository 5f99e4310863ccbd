import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resetSettingsStore, settingsStore, updateSettings } from '../state/settings-store.ts'
import { scriptedDonor, type ScriptedDonor } from '../test/scripted.ts'
import { createDonorActions, type DonorActions, type Visibility } from './donor-actions.ts'

let donor: ScriptedDonor
let actions: DonorActions
let hidden = false
const listeners = new Set<() => void>()
const visibility: Visibility = {
  hidden: () => hidden,
  onChange: (l) => { listeners.add(l); return () => { listeners.delete(l) } }
}
function setHidden (h: boolean): void {
  hidden = h
  for (const l of listeners) l()
}

beforeEach(() => {
  resetSettingsStore()
  hidden = false
  donor = scriptedDonor()
  actions = createDonorActions({ getDonor: () => donor, visibility, restartDelayMs: 10 })
})
afterEach(() => { actions.dispose() })

describe('donor actions', () => {
  it('switch on starts the donor with the CPU budget; off stops it', async () => {
    updateSettings({ donorWorkers: 3 })
    await actions.setOn(true)
    expect(donor.getState().status).toBe('on')
    await actions.setOn(false)
    expect(donor.log).toEqual(['start 3', 'stop'])
  })

  it('pauses while the tab is hidden and resumes when it is shown, when asked to', async () => {
    await actions.setOn(true)
    setHidden(true)
    expect(donor.getState().status).toBe('paused')
    setHidden(false)
    expect(donor.getState().status).toBe('on')
    actions.setPauseWhenHidden(false)
    expect(settingsStore.getState().pauseWhenHidden).toBe(false)
    setHidden(true)
    expect(donor.getState().status).toBe('on')
    // turning the option on while hidden pauses at once
    actions.setPauseWhenHidden(true)
    expect(donor.getState().status).toBe('paused')
    expect(donor.log).toEqual(['start 1', 'pause', 'resume', 'pause'])
  })

  it('starting while hidden starts paused', async () => {
    setHidden(true)
    await actions.setOn(true)
    expect(donor.log).toEqual(['start 1', 'pause'])
  })

  it('a new budget restarts a running donor once, after the last change', async () => {
    await actions.setOn(true)
    actions.setWorkers(2)
    actions.setWorkers(4)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(donor.log).toEqual(['start 1', 'stop', 'start 4'])
    // and only records it while off
    await actions.setOn(false)
    actions.setWorkers(2)
    await new Promise(resolve => setTimeout(resolve, 30))
    expect(donor.log.at(-1)).toBe('stop')
    expect(settingsStore.getState().donorWorkers).toBe(2)
  })
})
