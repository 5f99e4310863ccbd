/**
 * A squeeze's memory of its expensive searches. With each matrix's own weights, a packed
 * plan's noise bound is measured from the merged plaintexts — 16–1,300 ms per candidate at
 * 768 dims, ~10 s per 768-dim layer in all on wan — and the result depends only on the
 * checkpoint and the squeeze options. A {@link PlanMemo} filled by one squeeze lets the next
 * squeeze of the same checkpoint with the same options skip those searches and make the
 * same plans (the user's HE worker keeps one per model and options in IndexedDB).
 *
 * A remembered plan is used only when it validates and fits its matrix; otherwise it is
 * searched for again. One that validates but was made for other weights (a memo kept under
 * the wrong key) can only be refused, never decrypt wrongly: a miner checks each matrix
 * against its plan's declared noise bound while it encodes it.
 *
 * @example
 * ```ts
 * const key = planMemoKey(model.sha256, opts)
 * const memo = parsePlanMemo(await store.get(key))
 * const sq = squeezeModel(ckpt, { ...opts, memo })
 * if (memo.size > 0) await store.put(key, planMemoJson(memo))
 * ```
 */
import { DEFAULT_COST_MODEL } from '../he/planner.ts'
import { planFromData, type MatvecPlan, type PlanData } from '../he/plan.ts'

/**
 * Remembered searches by entry key (`group:layer#index` for a matrix's plan, with `+prefill`
 * for its batched prefill plan); null: the search found none.
 */
export type PlanMemo = Map<string, PlanData | null>

/**
 * The version of what the memo remembers: bump it with any change to how plans are searched
 * or bounded, so that memos of older code are not used.
 */
export const PLAN_MEMO_VERSION = 1

/** The squeeze options that decide the plans (anything else, e.g. `memo`, does not). */
interface MemoScope {
  readonly network?: unknown
  readonly cost?: unknown
  readonly fuse?: boolean
  readonly fold?: boolean
  readonly placement?: string
  readonly localMacNs?: number
  readonly rounds?: string
  readonly scheme?: string
  readonly exactPlans?: boolean
  readonly prefill?: unknown
  readonly fixedNi?: number
}

/** The key a memo is kept under: the model's SHA-256, the options that decide the plans, the version. */
export function planMemoKey (modelSha256: string, o: MemoScope): string {
  const scope = {
    v: PLAN_MEMO_VERSION,
    network: o.network ?? null,
    cost: o.cost ?? DEFAULT_COST_MODEL,
    fuse: o.fuse ?? null,
    fold: o.fold ?? null,
    placement: o.placement ?? null,
    localMacNs: o.localMacNs ?? null,
    rounds: o.rounds ?? null,
    scheme: o.scheme ?? null,
    exactPlans: o.exactPlans ?? null,
    prefill: o.prefill ?? null,
    fixedNi: o.fixedNi ?? null
  }
  return `${modelSha256}/${JSON.stringify(scope)}`
}

/** Largest memo text accepted (a 12-layer model's is ~10 KB). */
export const MAX_PLAN_MEMO_CHARS = 4 * 2 ** 20

/** A memo as JSON text, to keep. */
export function planMemoJson (memo: PlanMemo): string {
  return JSON.stringify({ v: PLAN_MEMO_VERSION, entries: [...memo] })
}

/**
 * The memo of a kept text; an empty one for no text, text of another version, or text that
 * is not a memo (a memo is only ever an optimisation: what it lacks is searched for).
 */
export function parsePlanMemo (text: string | undefined): PlanMemo {
  const memo: PlanMemo = new Map()
  if (text === undefined || text.length > MAX_PLAN_MEMO_CHARS) return memo
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return memo
  }
  const p = parsed as { v?: unknown, entries?: unknown }
  if (p === null || typeof p !== 'object' || p.v !== PLAN_MEMO_VERSION || !Array.isArray(p.entries)) return memo
  for (const e of p.entries as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string') continue
    const d: unknown = e[1]
    if (d === null || (typeof d === 'object' && !Array.isArray(d))) memo.set(e[0], d as PlanData | null)
  }
  return memo
}

/**
 * The remembered plan for a `rows × cols` matrix under `key`: undefined when there is none or
 * it does not validate or fit (search again), null when the search found none.
 */
export function rememberedPlan (memo: PlanMemo | undefined, key: string, rows: number, cols: number): MatvecPlan | null | undefined {
  const d = memo?.get(key)
  if (d === undefined) return undefined
  if (d === null) return null
  try {
    const plan = planFromData(d)
    return plan.dOut === rows && plan.dIn === cols ? plan : undefined
  } catch {
    return undefined // kept text is untrusted: whatever does not rebuild is searched for again
  }
}
