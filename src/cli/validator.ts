/**
 * `cerberus validator`: a validator (the validator assembly with in-process HE) that visits
 * the model's miners as a user would, checks every result exactly and publishes signed
 * scores through `--relay`, until Ctrl-C.
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { parseInteger, UsageError } from './args.ts'
import { loadCliModel, MODEL_OPTIONS, parse, parseRelays, untilSignal, type CliIo } from './options.ts'

/** Help of `validator`. */
export const VALIDATOR_USAGE = `validator:
  --relay MULTIADDR   join the mesh through this relay (repeatable; at least one)
  --interval MS       mean time before each answer, as a user reads and types (default
                      30000; drawn from [0.5, 1.5] x MS each time)
  --key-file PATH     the validator's identity, which signs its scores (created if absent;
                      default: a new one per start). Jobs go out under a fresh identity,
                      fresh HE keys and a fresh session every epoch.
  --tokens A-B        new tokens per answer, uniform in [A, B] (default the user mix:
                      mostly 64, the chat's default); small meshes and tests
  --answers A-B       answers per visit (epoch), uniform in [A, B] (default 1-4)
  --publish-interval MS   between two publications of every score (default 10000)
  --lie               TESTS ONLY: report every miner as perfect (users outvote it)
`

function parseRange (name: string, raw: string, min: number, max: number): readonly [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(raw)
  if (m === null) throw new UsageError(`--${name} must be a range like 2-8, got "${raw}"`)
  const lo = parseInteger(name, m[1], min, max)
  const hi = parseInteger(name, m[2], min, max)
  if (lo > hi) throw new UsageError(`--${name}: ${lo} is above ${hi}`)
  return [lo, hi]
}

async function loadKey (keyFile: string | undefined): Promise<import('@libp2p/interface').PrivateKey> {
  const { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } = await import('@libp2p/crypto/keys')
  if (keyFile === undefined) return await generateKeyPair('Ed25519')
  if (existsSync(keyFile)) {
    try {
      return privateKeyFromProtobuf(new Uint8Array(await readFile(keyFile)))
    } catch (err) {
      throw new UsageError(`the key file ${keyFile} is not a libp2p private key (${(err as Error).message}); remove it to create a new identity`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await writeFile(keyFile, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

/** Run `validator`. */
export async function cmdValidator (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { ...MODEL_OPTIONS, relay: { type: 'string', multiple: true }, interval: { type: 'string' }, 'key-file': { type: 'string' }, tokens: { type: 'string' }, answers: { type: 'string' }, 'publish-interval': { type: 'string' }, lie: { type: 'boolean' } })
  if (v.help === true) return io.stdout(VALIDATOR_USAGE)
  const relays = await parseRelays(v.relay ?? [])
  if (relays.length === 0) throw new UsageError('validator needs --relay MULTIADDR (printed by "cerberus relay")')
  const intervalMs = v.interval === undefined ? undefined : parseInteger('interval', v.interval, 0, 3_600_000)
  const publishIntervalMs = v['publish-interval'] === undefined ? undefined : parseInteger('publish-interval', v['publish-interval'], 100, 3_600_000)
  const tokens = v.tokens === undefined ? undefined : parseRange('tokens', v.tokens, 1, 4096)
  const answers = v.answers === undefined ? undefined : parseRange('answers', v.answers, 1, 64)
  const model = await loadCliModel(v)
  const { startValidator, USER_MIX } = await import('../app/index.ts')
  const { localHe } = await import('../core/engine/index.ts')
  const { loadSeal } = await import('../core/he/index.ts')
  const { createPeer } = await import('../net/peer.ts')
  const seal = await loadSeal()
  const privateKey = await loadKey(v['key-file'])
  const peer = await createPeer({ privateKey })
  const mix = { ...USER_MIX, ...(tokens === undefined ? {} : { tokens, defaultShare: 0 }), ...(answers === undefined ? {} : { answers }) }
  const short = (id: string): string => `…${id.slice(-8)}`
  const validator = await startValidator({
    model,
    privateKey,
    relays,
    intervalMs,
    mix,
    lie: v.lie === true,
    publishIntervalMs,
    onEvent: e => {
      if (e.type === 'epoch') io.stderr(`epoch ${e.epoch}: visiting as ${e.peerId}\n`)
      else if (e.type === 'answer') io.stderr(`epoch ${e.epoch}: ${e.tokens} tokens in ${Math.round(e.ms)} ms (${e.miners.map(m => `${short(m.peerId)} ${m.jobs} jobs`).join(', ')})${e.wrong.length > 0 ? `; WRONG results from ${e.wrong.join(', ')}` : ''}\n`)
      else if (e.type === 'published') io.stderr(`epoch ${e.epoch}: published ${e.records} score record(s)\n`)
      else if (e.type === 'no-miners') io.stderr(`epoch ${e.epoch}: no miner of this model (sha256 ${model.sha256.slice(0, 12)}…) announced yet\n`)
      else io.stderr(`epoch ${e.epoch}: ${e.error.message}\n`)
    }
  }, {
    peer,
    createPeer: async key => await createPeer({ privateKey: key }),
    // fresh keys every epoch: a new HE user (the in-process miner half is not needed)
    newSession: () => { const l = localHe(seal); l.miner.close?.(); return l.session }
  })
  if (v.lie === true) io.stderr('WARNING: this validator lies (--lie): it reports every miner as perfect; it exists to test that users outvote it\n')
  io.stdout(`validator ready: ${validator.peerId}\n`)
  await untilSignal()
  await validator.stop()
  await peer.stop()
}
