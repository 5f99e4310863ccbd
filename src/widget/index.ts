/**
 * The Cerberus chat widget: one `<script type="module">` tag and a `<cerberus-chat>`
 * element give any page a private chat — the visitor's browser encrypts, volunteers'
 * machines compute on ciphertexts, the answer is verified. docs/08-widget.md explains it.
 *
 * ```html
 * <script type="module" src="https://cerberus.example.org/widget/cerberus-chat.js"></script>
 * <cerberus-chat relay="/dns4/relay.example.org/tcp/443/wss/p2p/12D3Koo…"></cerberus-chat>
 * ```
 *
 * Importing this module defines the element (once: a second copy on the page is harmless).
 */
import { CerberusChatElement } from './cerberus-chat.ts'

export type { CerberusChatElement }

/** The tag name. */
export const TAG = 'cerberus-chat'

if (customElements.get(TAG) === undefined) customElements.define(TAG, CerberusChatElement)

declare global {
  interface HTMLElementTagNameMap { 'cerberus-chat': CerberusChatElement }
}
