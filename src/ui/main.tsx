/**
 * Browser entry. Everything that is not React is made here, once (StrictMode mounts
 * components twice; there must be one client, one donor, one HE worker): the settings are
 * read, the history opened, and the runtime finds the relay (GET /cerberus.json, which
 * `npm start` serves) and starts the client.
 */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createCerberusClient, createDonor } from '../app/index.ts'
import { workerLocalGeneration } from '../app/local-generation.web.ts'
import { webDonorComponents } from '../app/platform-donor.web.ts'
import { webClientComponents } from '../app/platform.web.ts'
import { App } from './app.tsx'
import { createMemoryHistory, openHistoryDb } from './history/history-db.ts'
import type { HistoryStore } from './history/types.ts'
import { createAppRuntime } from './runtime/app-runtime.ts'
import { bindSettingsStorage } from './state/settings-store.ts'
import './styles.css'

/** The relay the server announces, or null (a plain `vite` dev server announces none). */
async function serverRelay (): Promise<string | null> {
  const res = await fetch('/cerberus.json', { cache: 'no-store' })
  if (!res.ok) return null
  const body = await res.json() as { relay?: unknown }
  return typeof body.relay === 'string' && body.relay !== '' ? body.relay : null
}

async function openHistory (): Promise<HistoryStore> {
  try {
    return await openHistoryDb()
  } catch (err) {
    console.warn('IndexedDB is unavailable; conversations will last until the tab closes', err)
    return createMemoryHistory()
  }
}

try { bindSettingsStorage(localStorage) } catch { /* storage blocked: defaults, this session only */ }

const runtime = createAppRuntime({
  // Local mode ("Generate on this device") runs in its own Web Worker, never on this thread;
  // its default plan is the private pipeline's (lan), so a local answer has the private one's text.
  createClient: (opts) => createCerberusClient(opts, webClientComponents({ localGeneration: (model, options) => workerLocalGeneration(model, options) })),
  createDonor: (opts) => createDonor(opts, webDonorComponents()),
  serverRelay,
  history: await openHistory()
})

const container = document.getElementById('root')
if (container === null) throw new Error('index.html has no #root element')
createRoot(container).render(
  <StrictMode>
    <App runtime={runtime} cores={Math.max(1, navigator.hardwareConcurrency || 1)} />
  </StrictMode>
)
void runtime.start()
