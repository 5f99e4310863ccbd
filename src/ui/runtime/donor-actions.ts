/**
 * The "Donate" switch as plain functions: start and stop this tab's {@link Donor} with the
 * chosen CPU budget, restart it when the budget changes, and pause it while the tab is
 * hidden when the user asks for that.
 */
import type { Donor } from '../../app/types.ts'
import { settingsStore, updateSettings } from '../state/settings-store.ts'

/**
 * The Donate panel's controls, from {@link createDonorActions}. Budget and "pause when
 * hidden" are saved in the settings even while there is no donor; switching on then does
 * nothing.
 */
export interface DonorActions {
  /** Switch donating on or off. Never rejects; failures land in the donor's state. */
  setOn: (on: boolean) => Promise<void>
  /** Change the CPU budget (Web Workers); a running donor restarts with it shortly after the last change. */
  setWorkers: (workers: number) => void
  /** Save the choice and apply it now: pause a running donor if the tab is hidden, or resume one this rule paused. */
  setPauseWhenHidden: (pause: boolean) => void
  /** Remove the visibility listener (tests, and a runtime that replaces its donor). */
  dispose: () => void
}

/** The page's visibility, injectable for tests (default: `document`). */
export interface Visibility {
  hidden: () => boolean
  onChange: (listener: () => void) => () => void
}

/** What the donor actions need; `visibility` and `restartDelayMs` are injectable for tests. */
export interface DonorActionsDeps {
  /** The donor in use now (it changes when the relay does). */
  readonly getDonor: () => Donor | undefined
  /** Default: `document`'s visibilityState and visibilitychange event. */
  readonly visibility?: Visibility
  /**
   * How long the budget must stay unchanged before a running donor restarts with it: a
   * slider dragged across 1…16 would otherwise restart the worker pool 16 times.
   */
  readonly restartDelayMs?: number
}

const documentVisibility: Visibility = {
  hidden: () => document.visibilityState === 'hidden',
  onChange: (listener) => {
    document.addEventListener('visibilitychange', listener)
    return () => { document.removeEventListener('visibilitychange', listener) }
  }
}

/** Whether `donor` is on (or on its way, or paused). */
export function isDonating (donor: Donor | undefined): boolean {
  const st = donor?.getState().status
  return st === 'on' || st === 'paused' || st === 'starting'
}

/**
 * Make the donor actions; they listen to the page's visibility from now until `dispose`.
 * A budget change restarts a donor that is on (or starting, or paused) `restartDelayMs`
 * (default 600 ms) after the last change. Showing the tab resumes only a donor that hiding
 * it paused, never one paused otherwise.
 */
export function createDonorActions (deps: DonorActionsDeps): DonorActions {
  const visibility = deps.visibility ?? documentVisibility
  const delay = deps.restartDelayMs ?? 600
  let restartTimer: ReturnType<typeof setTimeout> | undefined
  // Paused by the visibility rule (not by anything else): only then does showing the tab resume it.
  let pausedForHidden = false

  const applyVisibility = (): void => {
    const donor = deps.getDonor()
    if (donor === undefined) return
    const st = donor.getState().status
    const shouldPause = settingsStore.getState().pauseWhenHidden && visibility.hidden()
    if (shouldPause && st === 'on') {
      donor.pause()
      pausedForHidden = true
    } else if (!shouldPause && st === 'paused' && pausedForHidden) {
      donor.resume()
      pausedForHidden = false
    }
  }
  const unlisten = visibility.onChange(applyVisibility)

  const start = async (donor: Donor): Promise<void> => {
    pausedForHidden = false
    try {
      await donor.start({ workers: settingsStore.getState().donorWorkers })
      applyVisibility()
    } catch {
      // the donor reports the failure in its state (status 'error', error), which the panel shows
    }
  }

  return {
    async setOn (on) {
      const donor = deps.getDonor()
      if (donor === undefined) return
      clearTimeout(restartTimer)
      if (on) {
        await start(donor)
      } else {
        pausedForHidden = false
        await donor.stop().catch(() => {})
      }
    },

    setWorkers (workers) {
      updateSettings({ donorWorkers: workers })
      clearTimeout(restartTimer)
      if (!isDonating(deps.getDonor())) return
      restartTimer = setTimeout(() => {
        const donor = deps.getDonor()
        if (donor === undefined || !isDonating(donor)) return
        void donor.stop().catch(() => {}).then(async () => { await start(donor) })
      }, delay)
    },

    setPauseWhenHidden (pause) {
      updateSettings({ pauseWhenHidden: pause })
      applyVisibility()
    },

    dispose () {
      clearTimeout(restartTimer)
      unlisten()
    }
  }
}
