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

export interface ModelActions {
  /** Switch to `source`. Never rejects: the outcome lands in the model-load slice. */
  load: (source: ModelSource) => Promise<void>
}

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
  getClient: () => CerberusClient | undefined
  getDonor: () => Donor | undefined
}

export interface AppRuntimeDeps {
  readonly createClient: (opts: { relay: string }) => CerberusClient
  readonly createDonor: (opts: { relay: string }) => Donor
  /** The relay the server announces (GET /cerberus.json), or null when it announces none. */
  readonly serverRelay: () => Promise<string | null>
  readonly history: HistoryStore
  readonly visibility?: Visibility
}

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
