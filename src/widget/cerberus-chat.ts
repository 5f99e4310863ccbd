/**
 * `<cerberus-chat>`: a compact private chat for any web page. It owns one
 * {@link CerberusClient} (model, the visitor's HE worker and keys, the mesh), renders
 * into its own shadow root, and talks to the page only through its attributes.
 *
 * Lifecycle: connecting the element starts a client for its relay and model; changing
 * one of those restarts it; removing the element stops it (a move within the page, which
 * disconnects and reconnects in one task, keeps it).
 */
import { createCerberusClient, type CerberusClient, type ClientState } from '../app/index.ts'
import { webClientComponents } from '../app/platform.web.ts'
import { sealWasmScriptUrl, spawnEmbeddedHeWorker } from './he-worker.ts'
import { errorText, statusLine } from './messages.ts'
import { readConnection, readSampling, WIDGET_ATTRIBUTES, WIDGET_DEFAULTS, type WidgetConnection } from './options.ts'
import { receiptLine } from './receipt.ts'
import { WIDGET_CSS } from './styles.ts'

/** One stylesheet shared by every instance (constructable: no inline <style>, CSP-friendly). */
let sheet: CSSStyleSheet | undefined
function widgetSheet (): CSSStyleSheet {
  if (sheet === undefined) {
    sheet = new CSSStyleSheet()
    sheet.replaceSync(WIDGET_CSS)
  }
  return sheet
}

const LOCK_ICON = 'M8 1a3.5 3.5 0 0 0-3.5 3.5V6H4a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V7a1 1 0 0 0-1-1h-.5V4.5A3.5 3.5 0 0 0 8 1Zm2 5H6V4.5a2 2 0 1 1 4 0V6Z'

function el<K extends keyof HTMLElementTagNameMap> (tag: K, props: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v)
  e.append(...children)
  return e
}

function lockIcon (): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(ns, 'svg')
  svg.setAttribute('viewBox', '0 0 16 16')
  svg.setAttribute('aria-hidden', 'true')
  const path = document.createElementNS(ns, 'path')
  path.setAttribute('d', LOCK_ICON)
  svg.append(path)
  return svg
}

/** The `<cerberus-chat>` element. */
export class CerberusChatElement extends HTMLElement {
  static readonly observedAttributes = [...WIDGET_ATTRIBUTES]

  readonly #status = el('p', { class: 'status', role: 'status', part: 'status' })
  readonly #progress = el('progress', { 'aria-label': 'Starting', hidden: '' })
  readonly #log = el('div', { class: 'log', role: 'log', 'aria-label': 'Conversation', tabindex: '0', part: 'log', 'data-empty': 'Answers appear here.' })
  readonly #receipt = el('p', { class: 'receipt', part: 'receipt', 'aria-live': 'polite' })
  readonly #error = el('p', { class: 'error', role: 'alert', part: 'error' })
  readonly #prompt = el('textarea', { id: 'prompt', rows: '2', placeholder: 'Once upon a time', 'aria-describedby': 'hint', part: 'prompt' })
  readonly #send = el('button', { type: 'submit', class: 'send', part: 'send' }, 'Ask')
  readonly #stop = el('button', { type: 'button', class: 'stop', part: 'stop', disabled: '' }, 'Stop')

  #client: CerberusClient | undefined
  #connection: WidgetConnection | undefined
  #unsubscribe: (() => void) | undefined
  #answering: AbortController | undefined
  /** Bumped on each restart, so a stale client's late events are ignored. */
  #generation = 0
  #restartQueued = false
  /** Restarts and teardowns run one after another, so two clients never overlap. */
  #lifecycle: Promise<void> = Promise.resolve()

  constructor () {
    super()
    const root = this.attachShadow({ mode: 'open' })
    root.adoptedStyleSheets = [widgetSheet()]
    const form = el('form', { part: 'form' },
      el('label', { for: 'prompt' }, 'Your message'),
      el('div', { class: 'row' }, this.#prompt, this.#send, this.#stop),
      el('p', { id: 'hint', class: 'hint' }, 'Enter sends, Shift+Enter adds a line, Esc stops.')
    )
    root.append(el('section', { class: 'frame', part: 'frame', 'aria-labelledby': 'title' },
      el('div', { class: 'head' },
        // Not a heading: its level could not fit every page's outline; the section is a
        // labelled region, which screen readers list as landmarks.
        el('p', { class: 'title', id: 'title' }, 'Private chat'),
        el('span', { class: 'badge', title: 'Your message is encrypted in this browser; the computers that answer it only ever see ciphertext.' }, lockIcon(), 'encrypted in your browser')
      ),
      this.#status, this.#progress, this.#log, this.#receipt, this.#error, form
    ))
    form.addEventListener('submit', (e) => { e.preventDefault(); void this.#ask() })
    this.#prompt.addEventListener('input', () => { this.#syncButtons() })
    this.#prompt.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit() }
    })
    this.#stop.addEventListener('click', () => { this.#answering?.abort() })
    this.#syncButtons()
    root.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Escape' && this.#answering !== undefined) { e.preventDefault(); this.#answering.abort() }
    })
  }

  connectedCallback (): void { this.#queueRestart() }

  disconnectedCallback (): void {
    queueMicrotask(() => { if (!this.isConnected) this.#enqueue(async () => { if (!this.isConnected) await this.#teardown() }) })
  }

  attributeChangedCallback (name: string, old: string | null, value: string | null): void {
    if (old === value || !this.isConnected) return
    if (name === 'relay' || name === 'model' || name === 'tokenizer') this.#queueRestart()
    else this.#showAttributeProblems()
  }

  /** The client's state (for pages that want to show more), or undefined before start. */
  get state (): ClientState | undefined { return this.#client?.getState() }

  #attr = (name: (typeof WIDGET_ATTRIBUTES)[number]): string | null => this.getAttribute(name)

  /** Several attribute changes in one task restart once. */
  #queueRestart (): void {
    if (this.#restartQueued) return
    this.#restartQueued = true
    queueMicrotask(() => {
      this.#restartQueued = false
      this.#enqueue(async () => { if (this.isConnected) await this.#restart() })
    })
  }

  #enqueue (step: () => Promise<void>): void {
    this.#lifecycle = this.#lifecycle.then(step, step)
  }

  async #restart (): Promise<void> {
    let next: WidgetConnection
    try {
      next = readConnection(this.#attr, import.meta.url, location.href)
    } catch (err) {
      await this.#teardown()
      this.#fail((err as Error).message)
      this.#status.textContent = 'Not available.'
      this.#syncButtons()
      return
    }
    if (this.#client !== undefined && JSON.stringify(next) === JSON.stringify(this.#connection)) return
    await this.#teardown()
    const generation = ++this.#generation
    this.#connection = next
    this.#fail('')
    this.#showAttributeProblems()
    const client = createCerberusClient({ relay: next.relay, wasmUrl: sealWasmScriptUrl() }, webClientComponents({
      modelBase: next.model.kind === 'default' ? next.model.base : undefined,
      spawnHeWorker: spawnEmbeddedHeWorker
    }))
    this.#client = client
    this.#unsubscribe = client.subscribe((s) => { if (generation === this.#generation) this.#render(s) })
    this.#render(client.getState())
    const source = next.model.kind === 'default' ? { kind: 'default' as const } : { kind: 'url' as const, model: next.model.model, tokenizer: next.model.tokenizer }
    // Not awaited: the lifecycle queue must stay free for a teardown during a long start.
    // A failure is in the client's state, rendered above.
    client.start(source).catch(() => {})
  }

  async #teardown (): Promise<void> {
    this.#answering?.abort()
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    const c = this.#client
    this.#client = undefined
    this.#connection = undefined
    this.#generation++
    await c?.stop().catch(() => {})
  }

  #render (s: ClientState): void {
    this.#status.textContent = statusLine(s)
    const p = s.progress
    if (s.status === 'starting' && p !== undefined && p.total > 0) {
      this.#progress.hidden = false
      this.#progress.max = p.total
      this.#progress.value = p.done
      this.#progress.setAttribute('aria-valuetext', p.label)
    } else {
      this.#progress.hidden = true
    }
    if (s.status === 'error' && s.error !== undefined) this.#fail(errorText(s.error, this.#connection?.relay ?? ''))
    this.#syncButtons()
  }

  #fail (message: string): void { this.#error.textContent = message }

  /** temperature / max-tokens problems, shown as soon as the attribute is set. */
  #showAttributeProblems (): boolean {
    try {
      readSampling(this.#attr)
      if (this.#error.dataset.kind === 'sampling') { this.#fail(''); delete this.#error.dataset.kind }
      return true
    } catch (err) {
      this.#fail((err as Error).message)
      this.#error.dataset.kind = 'sampling'
      return false
    }
  }

  #syncButtons (): void {
    const answering = this.#answering !== undefined
    const ready = this.#client?.getState().status === 'ready'
    this.#send.disabled = answering || !ready || this.#prompt.value.trim() === ''
    this.#stop.disabled = !answering
  }

  async #ask (): Promise<void> {
    const client = this.#client
    const prompt = this.#prompt.value.trim()
    if (client === undefined || this.#answering !== undefined || prompt === '') return
    if (client.getState().status !== 'ready') { this.#fail('Not ready yet: ' + statusLine(client.getState())); return }
    let sampling
    try {
      sampling = readSampling(this.#attr)
    } catch (err) {
      this.#fail((err as Error).message)
      return
    }
    this.#fail('')
    const abort = new AbortController()
    this.#answering = abort
    const hadFocus = this.shadowRoot?.activeElement
    this.#syncButtons()
    if (hadFocus === this.#send) this.#stop.focus()
    const more = el('span', { class: 'more', part: 'answer' })
    const turn = el('p', { class: 'turn', 'aria-busy': 'true' }, el('span', { class: 'echo', part: 'echo' }, prompt), more)
    this.#log.append(turn)
    this.#log.setAttribute('aria-busy', 'true')
    this.#receipt.textContent = ''
    this.#prompt.value = ''
    try {
      const receipt = await client.generate(prompt, { temperature: sampling.temperature, topp: WIDGET_DEFAULTS.topp, maxTokens: sampling.maxTokens }, {
        signal: abort.signal,
        onText: (text) => {
          const stick = this.#log.scrollTop + this.#log.clientHeight >= this.#log.scrollHeight - 4
          more.append(text)
          if (stick) this.#log.scrollTop = this.#log.scrollHeight
        }
      })
      this.#receipt.textContent = receiptLine(receipt)
      if (abort.signal.aborted) turn.append(el('span', { class: 'stopped' }, ' (stopped)'))
    } catch (err) {
      if (abort.signal.aborted) turn.append(el('span', { class: 'stopped' }, ' (stopped)'))
      else this.#fail(errorText({ code: (err as { code?: string }).code ?? 'ERROR', message: (err as Error).message }, this.#connection?.relay ?? ''))
    } finally {
      this.#answering = undefined
      turn.setAttribute('aria-busy', 'false')
      this.#log.setAttribute('aria-busy', 'false')
      const focused = this.shadowRoot?.activeElement
      this.#syncButtons()
      if (focused === this.#stop || focused === this.#send) this.#prompt.focus()
    }
  }
}
