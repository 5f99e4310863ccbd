/**
 * The `w8a8` backend over a squeezed model: exactly the squeezed weights (fused, folded,
 * quantized) in plaintext integers — the encrypted backend's twin.
 */
import { groupFor, type SqueezedModel } from '../squeeze/squeeze.ts'
import { emptyStats, type LinearBackend } from './backend.ts'
import { plainIntMatvec, runQuantizedGroup } from './quantized.ts'

/** Plaintext integer backend for a squeezed model. */
export function squeezedW8a8Backend (sq: SqueezedModel): LinearBackend {
  const stats = emptyStats()
  return {
    name: 'w8a8',
    stats,
    async run (req, signal) {
      signal?.throwIfAborted()
      const g = groupFor(sq, req.group, req.layer)
      const t0 = performance.now()
      await runQuantizedGroup(g, req, (grp, i, xq) => plainIntMatvec(grp.matrices[i], xq))
      stats.userMs += performance.now() - t0
      stats.groups++
    }
  }
}
