/**
 * `cerberus plan`: the squeezed encrypted plan of a model as JSON — per group where it runs
 * and why, each matrix's HE parameters and packing, and the predicted cost.
 */
import { writeFile } from 'node:fs/promises'
import { parseChoice } from './args.ts'
import { loadCliModel, MODEL_OPTIONS, parse, type CliIo } from './options.ts'

/** Help of `plan`. */
export const PLAN_USAGE = `plan:
  --network N         the network to plan for: loopback | lan (default) | wan
  --rounds R          auto (default: the layout the planner picks for the network) |
                      fused (2 round trips per layer + 1) | unfused (4 per layer)
  --naive             the naive plan the squeeze is measured against
  --json FILE         write the plan there instead of stdout
`

/** Run `plan`. */
export async function cmdPlan (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { ...MODEL_OPTIONS, network: { type: 'string' }, naive: { type: 'boolean' }, rounds: { type: 'string' }, json: { type: 'string' } })
  if (v.help === true) return io.stdout(PLAN_USAGE)
  const network = v.network === undefined ? 'lan' : parseChoice('network', v.network, ['loopback', 'lan', 'wan'] as const)
  // auto: show the layout the planner picks for the network (the JSON gives both layouts' cost)
  const rounds = v.rounds === undefined ? 'auto' : parseChoice('rounds', v.rounds, ['auto', 'fused', 'unfused'] as const)
  const { ckpt } = await loadCliModel(v)
  const { NETWORKS } = await import('../core/he/index.ts')
  const { squeezeModel, NAIVE } = await import('../core/squeeze/index.ts')
  const { planToJson } = await import('../core/squeeze/index.ts')
  const text = JSON.stringify(planToJson(ckpt.config, squeezeModel(ckpt, v.naive === true ? { ...NAIVE, network: NETWORKS[network], rounds } : { network: NETWORKS[network], rounds })), null, 2) + '\n'
  if (v.json !== undefined) await writeFile(v.json, text)
  else io.stdout(text)
}
