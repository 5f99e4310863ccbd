import { useState, type FormEvent } from 'react'
import { useClient, useSettings } from '../state/hooks.ts'
import { SETTING_BOUNDS, updateSettings } from '../state/settings-store.ts'
import { NumberField } from './number-field.tsx'

/** Props of {@link SettingsPanel}: sampling numbers go straight to the settings slice; only the relay needs the page. */
export interface SettingsPanelProps {
  /** Use another relay ('' = the server's); the page reconnects. */
  readonly onRelay: (address: string) => void
}

/** Sampling settings and the relay address; kept in this browser. */
export function SettingsPanel ({ onRelay }: SettingsPanelProps) {
  const temperature = useSettings(s => s.temperature)
  const topp = useSettings(s => s.topp)
  const maxTokens = useSettings(s => s.maxTokens)
  const chosenRelay = useSettings(s => s.relay)
  const relay = useClient(s => s.relay)
  const [relayText, setRelayText] = useState(chosenRelay)
  const b = SETTING_BOUNDS

  const submitRelay = (e: FormEvent): void => {
    e.preventDefault()
    onRelay(relayText.trim())
  }

  return (
    <section className='panel' aria-labelledby='settings-heading'>
      <h2 id='settings-heading'>Settings</h2>
      <div className='row'>
        <NumberField id='temperature' label='Temperature' value={temperature} {...b.temperature} hint='0 = always the most likely word (the same prompt gives the same story).' onCommit={v => { updateSettings({ temperature: v }) }} />
        <NumberField id='topp' label='Top-p' value={topp} {...b.topp} hint='Sample only from the most likely words covering this share.' onCommit={v => { updateSettings({ topp: v }) }} />
        <NumberField id='max-tokens' label='Max new tokens' value={maxTokens} {...b.maxTokens} hint='Longest answer, in tokens.' onCommit={v => { updateSettings({ maxTokens: Math.round(v) }) }} />
      </div>
      <form onSubmit={submitRelay} className='relay-form'>
        <div className='field'>
          <label htmlFor='relay-address'>Relay address</label>
          <input id='relay-address' type='text' spellCheck={false} autoComplete='off' value={relayText} placeholder={chosenRelay === '' ? relay.address || '/ip4/…/tcp/…/ws/p2p/12D3…' : ''} onChange={(e) => { setRelayText(e.target.value) }} aria-describedby='relay-hint' />
          <span id='relay-hint' className='hint'>
            {chosenRelay === '' ? 'Empty: the relay this server announces. ' : 'Your own relay. '}
            Now: {relay.address === '' ? 'none' : relay.connected ? 'connected' : 'not connected'}.
          </span>
        </div>
        <div className='buttons'>
          <button type='submit'>Use this relay</button>
          {chosenRelay !== '' && <button type='button' onClick={() => { setRelayText(''); onRelay('') }}>Use the server's relay</button>}
        </div>
      </form>
    </section>
  )
}
