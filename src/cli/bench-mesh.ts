/**
 * `cerberus bench mesh`: private generation over the real mesh on loopback, in Chromium
 * (src/bench/mesh-bench.ts).
 */
import { writeFile } from 'node:fs/promises'
import { parseChoice, parseInteger } from './args.ts'
import { parse, type CliIo } from './options.ts'

/** Help of `bench mesh`. */
export const BENCH_MESH_USAGE = `bench mesh [--models stories260K,synthetic-768] [--tokens N] [--prompt-tokens N] [--synthetic-layers L] [--link loopback|lan|wan] [--rounds auto|fused|unfused] [--relay-peers N] [--split-min-blocks B] [--json FILE]
                     private generation over the real mesh on loopback, in Chromium: he-local
                     (baseline, one tab), browser↔browser WebRTC (two donor tabs),
                     browser→Node WebSockets (two Node miners); tokens/s, round trips and
                     bytes per token, the plan, tokens = w8a8; and the relay under load
                     (500 peers). --link simulates the link between user and miners, each
                     way: lan 1 ms round trip at 1 Gbit/s, wan 50 ms at 50 Mbit/s
                     (default loopback: unshaped); the user plans for it. --prompt-tokens: a
                     prompt of about N tokens, and each run's time to first token against
                     its rate after it (one position at a time). --rounds forces the plan's
                     round layout in every run (default auto: the planner's choice for the link)
`

/** Run `bench mesh`. */
export async function cmdBenchMesh (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { models: { type: 'string' }, tokens: { type: 'string' }, 'prompt-tokens': { type: 'string' }, 'synthetic-layers': { type: 'string' }, 'relay-peers': { type: 'string' }, 'split-min-blocks': { type: 'string' }, link: { type: 'string' }, rounds: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
  if (v.help === true) return io.stdout(BENCH_MESH_USAGE)
  const models = v.models === undefined ? undefined : v.models.split(',').map(m => parseChoice('models', m, ['stories260K', 'synthetic-768'] as const))
  // loaded on use: the profiles import core/he (and with it node-seal's module)
  const { LINK_NAMES } = await import('../bench/link-profiles.ts')
  const link = v.link === undefined ? undefined : parseChoice('link', v.link, LINK_NAMES)
  const { runMeshBench, formatMeshBench } = await import('../bench/mesh-bench.ts')
  const report = await runMeshBench({
    models,
    tokens: v.tokens === undefined ? undefined : parseInteger('tokens', v.tokens, 1, 1024),
    promptTokens: v['prompt-tokens'] === undefined ? undefined : parseInteger('prompt-tokens', v['prompt-tokens'], 0, 200),
    syntheticLayers: v['synthetic-layers'] === undefined ? undefined : parseInteger('synthetic-layers', v['synthetic-layers'], 1, 64),
    relayPeers: v['relay-peers'] === undefined ? undefined : parseInteger('relay-peers', v['relay-peers'], 0, 2000),
    link,
    rounds: v.rounds === undefined ? undefined : parseChoice('rounds', v.rounds, ['auto', 'fused', 'unfused'] as const),
    splitMinBlocks: v['split-min-blocks'] === undefined ? undefined : parseInteger('split-min-blocks', v['split-min-blocks'], 1, 1_000_000),
    onProgress: line => { io.stderr(`${line}\n`) }
  })
  io.stdout(formatMeshBench(report))
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify(report, null, 2) + '\n')
}
