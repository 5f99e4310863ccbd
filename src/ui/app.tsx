import type { AppRuntime } from './runtime/app-runtime.ts'
import { ChatPanel } from './components/chat-panel.tsx'
import { ConversationList } from './components/conversation-list.tsx'
import { DonatePanel } from './components/donate-panel.tsx'
import { ModelPanel } from './components/model-panel.tsx'
import { NetworkPanel } from './components/network-panel.tsx'
import { PanelBoundary } from './components/panel-boundary.tsx'
import { PrivacyPanel } from './components/privacy-panel.tsx'
import { SettingsPanel } from './components/settings-panel.tsx'
import { plural } from './format.ts'
import { useChat, useClient } from './state/hooks.ts'

/** What main.tsx gives the page: the runtime (made once there, outside React) and the core count. */
export interface AppProps {
  /** Every action the page takes; panels get its parts as props. */
  readonly runtime: AppRuntime
  /** navigator.hardwareConcurrency, for the donor's CPU budget. */
  readonly cores: number
}

function StatusPill () {
  const status = useClient(s => s.status)
  const minersReady = useClient(s => s.minersReady)
  const relayConnected = useClient(s => s.relay.connected)
  const text = status === 'ready'
    ? `Private · ${plural(minersReady, 'miner')}`
    : status === 'starting' ? 'Getting ready…' : status === 'error' ? 'Not connected' : relayConnected ? 'Connected' : 'Offline'
  return <p className={`pill pill-${status}`} role='status' aria-label='Connection'>{text}</p>
}

/** The page: conversations, the chat, and the side panels, each behind its own error boundary. */
export function App ({ runtime, cores }: AppProps) {
  const streaming = useChat(s => s.streamingId !== null)
  const relayKnown = useClient(s => s.relay.address !== '')
  return (
    <div className='app'>
      <header className='app-header'>
        <div>
          <h1>Cerberus</h1>
          <p className='lede'>Private text generation: your words are encrypted in this tab, and volunteers compute on them without being able to read them.</p>
        </div>
        <StatusPill />
      </header>
      <div className='layout'>
        <div className='col-conversations'>
          <PanelBoundary name='Conversations'><ConversationList chat={runtime.chat} /></PanelBoundary>
        </div>
        <main className='col-chat'>
          <PanelBoundary name='Chat'><ChatPanel chat={runtime.chat} onRetry={() => { void runtime.retry() }} /></PanelBoundary>
          <PanelBoundary name='Privacy'><PrivacyPanel /></PanelBoundary>
        </main>
        <aside className='col-side' aria-label='Settings and network'>
          <PanelBoundary name='Settings'><SettingsPanel onRelay={(a) => { void runtime.setRelay(a) }} /></PanelBoundary>
          <PanelBoundary name='Model'><ModelPanel onLoad={(s) => { void runtime.model.load(s) }} canLoad={!streaming} /></PanelBoundary>
          <PanelBoundary name='Donate'><DonatePanel donor={runtime.donor} available={relayKnown} cores={cores} /></PanelBoundary>
          <PanelBoundary name='Network'><NetworkPanel /></PanelBoundary>
        </aside>
      </div>
    </div>
  )
}
