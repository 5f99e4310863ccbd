/**
 * What the buttons do: read the stores, talk to the generation worker, write the stores.
 * Plain functions over a {@link GenerateClient}, callable without React.
 */
import { serializeError, type GenerateParams } from '../workers/generate-protocol.ts'
import type { GenerateClient } from '../workers/generate-client.ts'
import { appendOutput, beginRun, failRun, finishRun, generationStore, markStopping, type GenerationSettings } from './state/generation-store.ts'
import { beginModelLoad, failModelLoad, setModel } from './state/model-store.ts'

/** run.c's default nucleus mass; the page does not expose it yet. */
const TOPP = 0.9

/** The user's actions. */
export interface AppActions {
  /** Generate with the current settings (ignored while a run is active). Never rejects. */
  generate: () => Promise<void>
  /** Stop the active run between two tokens. */
  stop: () => void
  /** Read both files and make the worker use them. Never rejects; errors land in the model store. */
  loadModel: (checkpoint: File, tokenizer: File) => Promise<void>
}

/** Parse a number field; empty text is NaN (not 0), so the core rejects it with a clear message. */
function parseField (text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text)
}

/** A non-zero 32-bit seed (run.c refuses 0); only matters when temperature > 0. */
function randomSeed (): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] || 1
}

function toParams (s: GenerationSettings): GenerateParams {
  return { prompt: s.prompt, steps: parseField(s.steps), temperature: parseField(s.temperature), topp: TOPP, seed: randomSeed(), engine: s.engine }
}

/** Bind the actions to a client. */
export function createAppActions (client: GenerateClient): AppActions {
  let active: AbortController | null = null

  return {
    async generate () {
      if (active !== null) return
      const { settings } = generationStore.getState()
      const controller = new AbortController()
      active = controller
      beginRun()
      try {
        const result = await client.generate(toParams(settings), { onText: appendOutput, onModel: setModel }, controller.signal)
        finishRun({ ...result, engine: settings.engine })
      } catch (err) {
        failRun(serializeError(err))
      } finally {
        active = null
      }
    },

    stop () {
      if (active === null) return
      markStopping()
      active.abort()
    },

    async loadModel (checkpoint, tokenizer) {
      beginModelLoad()
      try {
        const [ckpt, tok] = await Promise.all([checkpoint.arrayBuffer(), tokenizer.arrayBuffer()])
        setModel(await client.loadModel({ checkpoint: ckpt, tokenizer: tok, checkpointName: checkpoint.name, tokenizerName: tokenizer.name }))
      } catch (err) {
        failModelLoad(serializeError(err))
      }
    }
  }
}
