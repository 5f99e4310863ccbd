/**
 * What the widget says about the client's state, in the visitor's words. Pure (no DOM),
 * so it is unit-tested. The app's messages mention its Settings panel; the widget's point
 * at the embedding page's attributes instead.
 */
import type { ClientState } from '../app/types.ts'

/** The status line under the widget's title. */
export function statusLine (s: ClientState): string {
  switch (s.status) {
    case 'idle': return 'Not started.'
    case 'starting': return s.progress?.label ?? 'Starting…'
    case 'ready': return s.minersReady === 0
      ? 'No miners online right now; answers wait until one joins.'
      : `Ready: ${s.minersReady} ${s.minersReady === 1 ? 'miner' : 'miners'} online. Your keys stay in this browser.`
    case 'error': return 'Not available.'
  }
}

/** A client error as the widget shows it; `relay` is the element's relay attribute. */
export function errorText (e: { readonly code: string, readonly message: string }, relay: string): string {
  switch (e.code) {
    case 'RELAY_UNREACHABLE': return `Cannot reach the relay at ${relay}. Check the relay attribute of <cerberus-chat> and that the relay is running.`
    case 'MODEL_FETCH': return `The model could not be downloaded: ${e.message}. Check the model and tokenizer attributes, and that their server allows this page (CORS).`
    case 'WORKER_CRASHED': {
      // The page's policy refused the worker or WebAssembly, or the script did not load
      // (page-policy.ts): that is the whole story.
      const policy = e.message.search(/This page's Content-Security-Policy|The encryption worker could not load/)
      if (policy >= 0) return e.message.slice(policy)
      return `The encryption worker could not run: ${e.message}. The widget's server must allow this page to load its scripts (CORS).`
    }
    default: return e.message.length > 0 ? `${e.message[0].toUpperCase()}${e.message.slice(1)}${/[.!?]$/.test(e.message) ? '' : '.'}` : `Something went wrong (${e.code}).`
  }
}
