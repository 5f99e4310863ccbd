/**
 * The squeezed plan as JSON (`npx cerberus plan`): per group where it runs and why, the
 * HE parameters of each matrix, predicted costs per token, and the round layout — fused
 * or not, why, and the predicted cost per token of both.
 */
import { packedCounts } from '../he/packed-planner.ts'
import type { ModelConfig } from '../model/checkpoint.ts'
import type { TokenPrediction } from './rounds.ts'
import { predictToken, type SqueezedModel } from './squeeze.ts'

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d

/** A JSON-ready description of a squeezed model. */
export function planToJson (config: ModelConfig, sq: SqueezedModel): object {
  const token = predictToken(sq)
  const cost = (p: TokenPrediction | undefined): object | null => p === undefined
    ? null
    : { roundTrips: p.roundTrips, userMs: round(p.userMs), minerMs: round(p.minerMs), bytesUp: p.bytesUp, bytesDown: p.bytesDown, totalMs: round(p.totalMs) }
  return {
    model: { dim: config.dim, hiddenDim: config.hiddenDim, layers: config.nLayers, heads: config.nHeads, kvHeads: config.nKvHeads, vocab: config.vocabSize, sharedClassifier: config.sharedClassifier },
    network: sq.options.network,
    steps: { fusion: sq.options.fuse, foldedNorms: sq.options.fold, placement: sq.options.placement, packing: sq.options.fixedNi === undefined ? 'planned per matrix' : `fixed n_i = ${sq.options.fixedNi}` },
    predictedPerToken: { userMs: round(token.userMs), minerMs: round(token.minerMs), bytesUp: token.bytesUp, bytesDown: token.bytesDown, totalMs: round(token.totalMs), roundTrips: token.roundTrips },
    rounds: {
      mode: sq.rounds.mode,
      layout: sq.rounds.chosen,
      preferred: sq.rounds.preferred,
      reason: sq.rounds.reason,
      classifierInLastRound: sq.layout.classifierInLastRound,
      predictedPerToken: { unfused: cost(sq.rounds.predicted.unfused), fused: cost(sq.rounds.predicted.fused) }
    },
    groups: [...sq.groups.values()].map(g => ({
      group: g.group,
      layer: g.layer,
      placement: g.placement,
      reason: g.reason,
      matrices: g.matrices.map((m, i) => {
        const p = g.plans[i]
        const pre = g.prefillPlans?.[i]
        const preCounts = pre === undefined ? undefined : packedCounts(pre)
        return {
          rows: m.rows,
          cols: m.cols,
          outputs: g.outputRows[i],
          // a batched prefill job: its vectors, and key switches and upload per vector
          prefill: pre === undefined || preCounts === undefined
            ? null
            : { batch: pre.batch, vectorsPerCiphertext: pre.packed?.layout.vectors ?? 1, inputs: preCounts.inputs, keySwitchesPerVector: round(preCounts.keySwitches / pre.batch), bytesUpPerVector: Math.round(preCounts.bytesUp / pre.batch) },
          he: p === undefined
            ? null
            : { scheme: p.scheme, preset: p.params.preset.name, polyDegree: p.split.polyDegree, coeffModulusBits: p.params.preset.coeffBits, plainModulusBits: p.params.plainBits, nI: p.split.nI, nO: p.split.nO, chunks: p.split.chunks, blocks: p.split.blocks, resultBits: p.resultBits, ...(p.packed === undefined ? {} : { packed: { orbitLevels: p.packed.layout.orbitLevels ?? null, inputs: packedCounts(p).inputs, results: packedCounts(p).results, keySwitches: packedCounts(p).keySwitches } }) }
        }
      }),
      predicted: { userMs: round(g.predicted.userMs), minerMs: round(g.predicted.minerMs), bytesUp: g.predicted.bytesUp, bytesDown: g.predicted.bytesDown, totalMs: round(g.predicted.totalMs) },
      otherPlacement: { totalMs: round(g.alternative.totalMs), bytes: g.alternative.bytesUp + g.alternative.bytesDown }
    }))
  }
}
