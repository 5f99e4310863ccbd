/**
 * The page's non-React half, made once in main.tsx: it finds the relay, creates the
 * {@link CerberusClient} and the {@link Donor} for it, makes them current (the hooks read
 * their stores), starts the client, and replaces both when the user changes the relay. The
 * chat, donor and model actions live here too, so buttons only ever call plain functions.
 *
 * @example
 * const runtime = createAppRuntime({ createClient: createCerberusClient, createDonor, serverRelay, history })
 * await runtime.start()        // progress and errors arrive in the client's store
 * await runtime.chat.send('Once upon a time')
 */
import type { CerberusClient, Donor, ModelSource } from '../../app/types.ts'
import { toErrorView } from '../errors.ts'
import type { HistoryStore } from '../history/types.ts'
import { setClientUnavailable, setSession } from '../state/session-store.ts'
import { beginModelLoad, failModelLoad, finishModelLoad } from '../state/model-load-store.ts'
import { settingsStore, updateSettings } from '../state/settings-store.ts'
import { createChatActions, type ChatActions } from './chat-actions.ts'
import { createDonorActions, isDonating, type DonorActions, type Visibility } from './donor-actions.ts'

/**
 * The model picker's action. It lives in the runtime because a switch needs the current
 * client, and the source that loaded is remembered: a new client (after a relay change)
 * starts with it. With no client it does nothing.
 */
export interface ModelActions {
  /** Switch to `source`. Never rejects: the outcome lands in the model-load slice. */
  load: (source: ModelSource) => Promise<void>
}

/** Everything the page does, from {@link createAppRuntime}; components get its parts as props. */
export interface AppRuntime {
  readonly chat: ChatActions
  readonly donor: DonorActions
  readonly model: ModelActions
  /** Read the history, find the relay, create the client and donor, start the client. Never rejects. */
  start: () => Promise<void>
  /** Start the client again after a failure (same relay, same model); with no client yet, look for the relay again. */
  retry: () => Promise<void>
  /** Use another relay ('' = the one the server announces); the client and donor are replaced. */
  setRelay: (address: string) => Promise<void>
  /** The client in use; undefined before `start`, while the relay changes, and when none could be made (no relay known, bad address). */
  getClient: () => CerberusClient | undefined
  /** The donor made beside the client, for the same relay; undefined exactly when the client is. */
  getDonor: () => Donor | undefined
}

/** How the runtime makes its parts: main.tsx passes the browser's (`createCerberusClient` and `createDonor` with the web components). */
export interface AppRuntimeDeps {
  /** Called on each connect (start, a relay change, a retry with no client); a throw (e.g. an address that is not a multiaddr) is shown as the client's error. */
  readonly createClient: (opts: { relay: string }) => CerberusClient
  /** Made with each client, for the same relay; it starts only when the user turns Donate on, or when the donor it replaces was on. */
  readonly createDonor: (opts: { relay: string }) => Donor
  /** The relay the server announces (GET /cerberus.json), or null when it announces none. */
  readonly serverRelay: () => Promise<string | null>
  /** Read once by `start`; conversations are saved there as they change. */
  readonly history: HistoryStore
  /** For the donor's "pause when hidden"; default `document`. */
  readonly visibility?: Visibility
}

/**
 * Make the runtime; nothing runs until `start`. Each (re)connect stops the streaming answer
 * and the old client and donor (their errors ignored), asks the settings and then the
 * server for the relay, and makes a new client and donor; a donor that was on is turned on
 * again. None of its functions reject: failures land in the stores the page shows.
 */
export function createAppRuntime (deps: AppRuntimeDeps): AppRuntime {
  let client: CerberusClient | undefined
  let donor: Donor | undefined
  // The model the user chose last; a new client (new relay) starts with it.
  let source: ModelSource = { kind: 'default' }

  const chat = createChatActions({ getClient: () => client, history: deps.history })
  const donorActions = createDonorActions({ getDonor: () => donor, visibility: deps.visibility })

  const startClient = async (): Promise<void> => {
    try {
      await client?.start(source)
    } catch {
      // the client reports the failure in its state (status 'error', error), which the page shows
    }
  }

  const resolveRelay = async (): Promise<string | null> => {
    const chosen = settingsStore.getState().relay
    if (chosen !== '') return chosen
    try {
      return await deps.serverRelay()
    } catch {
      return null
    }
  }

  const connect = async (): Promise<void> => {
    chat.stop()
    const donating = isDonating(donor)
    const [oldClient, oldDonor] = [client, donor]
    client = undefined
    donor = undefined
    await Promise.all([oldClient?.stop().catch(() => {}), oldDonor?.stop().catch(() => {})])

    const relay = await resolveRelay()
    if (relay === null) {
      setClientUnavailable({ code: 'NO_RELAY', message: 'This page does not know where the relay is: the server did not announce one.' })
      return
    }
    try {
      client = deps.createClient({ relay })
      donor = deps.createDonor({ relay })
    } catch (err) {
      // e.g. a relay address that is not a multiaddr
      client = undefined
      donor = undefined
      setClientUnavailable(toErrorView(err), relay)
      return
    }
    setSession(client, donor)
    if (donating) void donorActions.setOn(true)
    await startClient()
  }

  return {
    chat,
    donor: donorActions,
    model: {
      async load (next) {
        const c = client
        if (c === undefined) return
        beginModelLoad()
        try {
          await c.loadModel(next)
          source = next
          finishModelLoad(next.kind)
        } catch (err) {
          failModelLoad(toErrorView(err))
        }
      }
    },
    async start () {
      await chat.load()
      await connect()
    },
    async retry () {
      await (client === undefined ? connect() : startClient())
    },
    async setRelay (address) {
      updateSettings({ relay: address })
      await connect()
    },
    getClient: () => client,
    getDonor: () => donor
  }
}
