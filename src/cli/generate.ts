/**
 * `cerberus generate`: print what llama2.c's run.c prints (the text, then a newline; timing
 * on stderr) — with a plaintext engine, or privately: `--engine he` (an in-process miner)
 * and `--engine mesh` (miners at `--miner` addresses, or found through `--relay`), every
 * linear layer encrypted and every result verified, printing exactly what `--engine w8a8`
 * prints.
 */
import { writeFile } from 'node:fs/promises'
import type { AnswerReceipt } from '../app/index.ts'
import { createEngine, createRng, createSampler, ENGINE_KINDS, generate } from '../core/model/index.ts'
import { parseChoice, parseInteger, parseNumber, parseSeed, UsageError } from './args.ts'
import { loadCliModel, MODEL_OPTIONS, parse, type CliIo } from './options.ts'
import { privateMiners } from './private-miners.ts'

/** Help of `generate`. */
export const GENERATE_USAGE = `generate:
  --prompt S          prompt text (default: empty)
  --steps N           positions to run, prompt included; 0 = the model's context (default 256)
  --temperature T     0 = greedy (default 1.0)
  --topp P            nucleus sampling mass in [0, 1] (default 0.9)
  --seed S            RNG seed; 0 or absent = current time, as run.c
  --engine E          f32 (run.c's arithmetic, default) | f32-fast | w8a8 | he | mesh
                      (he: every linear layer encrypted and computed by an in-process
                      miner, each result verified; prints exactly what w8a8 prints;
                      mesh: the same, computed by miners on the mesh)
  --network N         for --engine w8a8/he/mesh: the network the plan is made for
                      (default loopback for w8a8 and he, lan for mesh)
  --rounds R          for --engine w8a8/he/mesh: auto (default: the planner's choice for
                      the network) | fused (2 round trips per layer + 1) | unfused (4)
  --miner MULTIADDR   for --engine mesh: a miner to use (printed by "cerberus miner");
                      repeat it to spread jobs over several, with failover, and a miner
                      whose result fails verification dropped
  --relay MULTIADDR   for --engine mesh: find the model's miners through this relay
                      (their signed announcements), instead of --miner
  --receipt FILE      for --engine he/mesh: write the answer's receipt as JSON (bytes,
                      results verified and rejected, key rotations, jobs per miner
                      as "miners": [{ peerId, jobs }]; through --relay also each
                      miner's standing and each validator's weight for this user)
  --pad N             for --engine he/mesh: round the prompt and the answer up to
                      buckets of N tokens (32 is a good choice) with dummy jobs miners
                      cannot tell from real ones, so they learn lengths only to within N;
                      the text is unchanged (default: off)
`

/** Run `generate`. */
export async function cmdGenerate (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, {
    ...MODEL_OPTIONS,
    prompt: { type: 'string' },
    steps: { type: 'string' },
    temperature: { type: 'string' },
    topp: { type: 'string' },
    seed: { type: 'string' },
    engine: { type: 'string' },
    network: { type: 'string' },
    rounds: { type: 'string' },
    miner: { type: 'string', multiple: true },
    relay: { type: 'string' },
    receipt: { type: 'string' },
    pad: { type: 'string' }
  })
  if (v.help === true) return io.stdout(GENERATE_USAGE)
  const temperature = v.temperature === undefined ? 1 : parseNumber('temperature', v.temperature, 0, 1e6)
  const topp = v.topp === undefined ? 0.9 : parseNumber('topp', v.topp, 0, 1)
  const steps = v.steps === undefined ? 256 : parseInteger('steps', v.steps, 0, 1 << 30)
  const engineKind = v.engine === undefined ? 'f32' : parseChoice('engine', v.engine, [...ENGINE_KINDS, 'he', 'mesh'] as const)
  const network = v.network === undefined ? (engineKind === 'mesh' ? 'lan' : 'loopback') : parseChoice('network', v.network, ['loopback', 'lan', 'wan'] as const)
  const rounds = v.rounds === undefined ? 'auto' : parseChoice('rounds', v.rounds, ['auto', 'fused', 'unfused'] as const)
  const miners = v.miner ?? []
  if (engineKind === 'mesh' && miners.length === 0 && v.relay === undefined) throw new UsageError('--engine mesh needs --miner MULTIADDR (start one with "cerberus miner") or --relay MULTIADDR')
  if (engineKind !== 'mesh' && (miners.length > 0 || v.relay !== undefined)) throw new UsageError('--miner and --relay go with --engine mesh')
  if (engineKind !== 'he' && engineKind !== 'mesh' && v.receipt !== undefined) throw new UsageError('--receipt goes with --engine he or mesh')
  if (engineKind !== 'he' && engineKind !== 'mesh' && v.pad !== undefined) throw new UsageError('--pad goes with --engine he or mesh')
  const padTo = v.pad === undefined ? undefined : parseInteger('pad', v.pad, 1, (await import('../app/index.ts')).PADDING_LIMITS.maxBucket)
  const seed = parseSeed(v.seed)
  const model = await loadCliModel(v)
  let start = 0
  let count = 0
  const emit = (bytes: Uint8Array): void => {
    io.stdout(bytes)
    count++
    if (start === 0) start = performance.now()
  }
  if (engineKind === 'he' || engineKind === 'mesh') {
    const { createPrivateGeneration } = await import('../app/index.ts')
    const { NETWORKS } = await import('../core/he/index.ts')
    const source = await privateMiners({ engine: engineKind, miners, relay: v.relay, modelSha256: model.sha256, io })
    let receipt: AnswerReceipt
    let extras: Record<string, unknown> | undefined
    let gen
    try {
      gen = await createPrivateGeneration(model, source.components, { network: NETWORKS[network], squeeze: { rounds }, maxAttempts: source.attempts, ...(padTo === undefined ? {} : { padTo }) })
      receipt = await gen.generate(v.prompt ?? '', { temperature, topp, seed, steps }, { onToken: t => { emit(t.bytes) } })
      extras = source.standings?.() ?? {}
    } finally {
      await gen?.close()
      await source.close()
    }
    const st = gen.stats
    io.stdout('\n')
    io.stderr(`encrypted${source.label === '' ? '' : ` by ${source.label}`}: ${st.verified} linear results verified, ${st.rejected} rejected (keys rotated ${st.keyRotations} times)${receipt.padded === undefined ? '' : `; padded to ${receipt.padded.prompt} prompt and ${receipt.padded.answer} answer tokens`}; ${(st.bytesUp / 1024).toFixed(0)} KiB up, ${(st.bytesDown / 1024).toFixed(0)} KiB down; user ${st.userMs.toFixed(0)} ms (encrypting ${st.encryptMs.toFixed(0)}, decrypting ${st.decryptMs.toFixed(0)}), miner ${st.minerMs.toFixed(0)} ms\n`)
    if (v.receipt !== undefined) await writeFile(v.receipt, JSON.stringify({ ...receipt, miners: receipt.miners.map(m => ({ peerId: m.peerId, jobs: m.jobs })), ...(extras ?? {}) }, null, 2) + '\n')
  } else {
    const sampler = createSampler({ temperature, topp }, createRng(seed))
    // w8a8 is the encrypted pipeline's plaintext twin: the same plan (layout) as --engine he would run.
    const engine = engineKind === 'w8a8'
      ? await (async () => {
        const [{ squeezedEngine }, { squeezeModel }, { NETWORKS }] = await Promise.all([import('../core/engine/index.ts'), import('../core/squeeze/index.ts'), import('../core/he/index.ts')])
        return squeezedEngine(squeezeModel(model.ckpt, { network: NETWORKS[network], rounds }))
      })()
      : createEngine(engineKind, model.ckpt)
    for (const t of generate(engine, model.tokenizer, sampler, { prompt: v.prompt ?? '', steps })) emit(t.bytes)
    io.stdout('\n')
  }
  // As run.c: the timer starts after the first token, so the rate counts the rest.
  if (count > 1) io.stderr(`achieved tok/s: ${((count - 1) / ((performance.now() - start) / 1000)).toFixed(6)}\n`)
}
