/**
 * The `<cerberus-chat>` attributes, read and checked: plain data out, or one error that
 * names the attribute and says how to fix it. Pure (no DOM), so it is unit-tested.
 */
import { CerberusError } from '../core/errors.ts'

/** An attribute of `<cerberus-chat>` is missing or wrong. */
export class WidgetAttributeError extends CerberusError {
  constructor (message: string) {
    super('WIDGET_ATTRIBUTE', message)
  }
}

/** The attributes the element observes. */
export const WIDGET_ATTRIBUTES = ['relay', 'model', 'tokenizer', 'temperature', 'max-tokens'] as const

/** Defaults, as documented in docs/08-widget.md. */
export const WIDGET_DEFAULTS = Object.freeze({
  /** Greedy, like the app's default: the same prompt gives the same story. */
  temperature: 0,
  /** New tokens per answer: a few sentences of stories260K (context 512). */
  maxTokens: 128,
  /** run.c's top-p; only matters when temperature > 0. */
  topp: 0.9
})

/** Bounds that keep a typo from meaning something else. */
const MAX_TEMPERATURE = 2
/** The longest context of the llama2.c models Cerberus serves (stories15M…110M: 1024; 260K: 512). */
const MAX_TOKENS_LIMIT = 1024

/** Where the model comes from: the widget origin's default, or explicit URLs. */
export type WidgetModel =
  | { readonly kind: 'default', readonly base: string }
  | { readonly kind: 'url', readonly model: string, readonly tokenizer: string }

/** What the element needs to start a client. */
export interface WidgetConnection {
  readonly relay: string
  readonly model: WidgetModel
}

/** Sampling settings of the next answer. */
export interface WidgetSampling {
  readonly temperature: number
  readonly maxTokens: number
}

type Get = (name: (typeof WIDGET_ATTRIBUTES)[number]) => string | null

/** The default model base: `/models/default/` on the origin serving the widget's script. */
export function defaultModelBase (scriptUrl: string): string {
  return new URL('/models/default/', scriptUrl).href
}

function absoluteUrl (name: string, value: string, pageUrl: string): string {
  try {
    return new URL(value, pageUrl).href
  } catch {
    throw new WidgetAttributeError(`The ${name} attribute "${value}" is not a URL: give the address of the file, e.g. ${name}="https://example.org/models/${name === 'model' ? 'stories260K.bin' : 'tok512.bin'}".`)
  }
}

/**
 * The relay and model of the element. Relative model URLs resolve against the page.
 * @throws {WidgetAttributeError} when `relay` is missing or does not look like a multiaddr.
 */
export function readConnection (get: Get, scriptUrl: string, pageUrl: string): WidgetConnection {
  const relay = get('relay')?.trim() ?? ''
  if (relay === '') throw new WidgetAttributeError('The relay attribute is missing: give the relay\'s multiaddr, e.g. <cerberus-chat relay="/dns4/relay.example.org/tcp/443/wss/p2p/12D3Koo…"> ("npm start" and "cerberus relay" print it).')
  if (!relay.startsWith('/') || !/\/p2p\/\w+/.test(relay)) throw new WidgetAttributeError(`The relay attribute "${relay}" is not a relay multiaddr: it should look like /ip4/127.0.0.1/tcp/9090/ws/p2p/12D3Koo… ("npm start" and "cerberus relay" print it).`)
  const model = get('model')
  const tokenizer = get('tokenizer')
  if ((model ?? '') === '' && (tokenizer ?? '') === '') return { relay, model: { kind: 'default', base: defaultModelBase(scriptUrl) } }
  const base = defaultModelBase(scriptUrl)
  return {
    relay,
    model: {
      kind: 'url',
      model: (model ?? '') === '' ? new URL('stories260K.bin', base).href : absoluteUrl('model', model as string, pageUrl),
      tokenizer: (tokenizer ?? '') === '' ? new URL('tok512.bin', base).href : absoluteUrl('tokenizer', tokenizer as string, pageUrl)
    }
  }
}

/**
 * Temperature and max-tokens, with their defaults.
 * @throws {WidgetAttributeError} for a value that is not a number in range.
 */
export function readSampling (get: Get): WidgetSampling {
  const t = get('temperature')
  const m = get('max-tokens')
  let temperature: number = WIDGET_DEFAULTS.temperature
  if (t !== null && t.trim() !== '') {
    temperature = Number(t)
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > MAX_TEMPERATURE) throw new WidgetAttributeError(`The temperature attribute "${t}" must be a number from 0 (always the likeliest word) to ${MAX_TEMPERATURE}.`)
  }
  let maxTokens: number = WIDGET_DEFAULTS.maxTokens
  if (m !== null && m.trim() !== '') {
    maxTokens = Number(m)
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_TOKENS_LIMIT) throw new WidgetAttributeError(`The max-tokens attribute "${m}" must be a whole number from 1 to ${MAX_TOKENS_LIMIT}.`)
  }
  return { temperature, maxTokens }
}
