/**
 * Letting the event loop run inside long work: a page's input and WebRTC, a miner's I/O.
 */

// Every runtime Cerberus targets has setTimeout; the core type-checks without the DOM and
// Node libraries (tsconfig.core.json), and a global declaration would change
// `ReturnType<typeof setTimeout>` for the rest of the project, so it is reached this way.
const timers = globalThis as unknown as { setTimeout: (handler: () => void, ms: number) => unknown }

/** Resolves on a later macrotask, after pending timers, I/O and input have run. */
export async function yieldToLoop (): Promise<void> {
  await new Promise<void>(resolve => { timers.setTimeout(resolve, 0) })
}
