/**
 * What every command shares: the output streams, strict option parsing, the model
 * options, and waiting for Ctrl-C.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { LoadedModel } from '../app/index.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { UsageError } from './args.ts'

/** Output streams, injectable for tests. */
export interface CliIo {
  stdout: (bytes: Uint8Array | string) => void
  stderr: (text: string) => void
}

/** The options of every command that reads a model. */
export const MODEL_OPTIONS = {
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} satisfies ParseArgsConfig['options']

/** Parse `args` strictly (unknown options and positionals are usage errors). */
export function parse<O extends NonNullable<ParseArgsConfig['options']>> (args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[], options: O, strict: true, allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^.*?: /, ''))
  }
}

/** The model of `--model`/`--tokenizer` (default: the default model's directory). */
export async function loadCliModel (v: { model?: string, tokenizer?: string }): Promise<LoadedModel> {
  return await loadModelFiles(v.model, v.tokenizer)
}

/**
 * `--relay` values as multiaddrs that name the relay's peer id.
 * @throws {UsageError} for a value that is not a multiaddr, or names no peer.
 */
export async function parseRelays (values: readonly string[]): Promise<Array<import('@multiformats/multiaddr').Multiaddr>> {
  const { multiaddr } = await import('@multiformats/multiaddr')
  return values.map(a => {
    let ma
    try { ma = multiaddr(a) } catch { throw new UsageError(`--relay must be a multiaddr like /ip4/127.0.0.1/tcp/9090/ws/p2p/12D3…, got "${a}"`) }
    if (!ma.getComponents().some(c => c.name === 'p2p')) throw new UsageError(`--relay must end in /p2p/<the relay's peer id> (printed by "cerberus relay"), got "${a}"`)
    return ma
  })
}

/** Resolves on SIGINT or SIGTERM (long-running commands stop cleanly on Ctrl-C). */
export async function untilSignal (): Promise<void> {
  await new Promise<void>(resolve => {
    process.once('SIGINT', () => { resolve() })
    process.once('SIGTERM', () => { resolve() })
  })
}
