/**
 * Errors as the page shows them: the code and message the client gives (CerberusError
 * subclasses carry a stable `code`), plus what to do next, in plain words, for the
 * failures a user can fix.
 */

/** An error as the UI keeps it (plain data: it goes into stores and the history). */
export interface ErrorView {
  readonly code: string
  readonly message: string
}

/** Any thrown value -> {@link ErrorView}. */
export function toErrorView (err: unknown): ErrorView {
  if (typeof err === 'object' && err !== null && 'message' in err) {
    const e = err as { code?: unknown, name?: unknown, message: unknown }
    const code = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'ERROR'
    return { code, message: String(e.message) }
  }
  return { code: 'ERROR', message: String(err) }
}

/** True for the error an aborted fetch or generation rejects with. */
export function isAbort (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError'
}

/** What to do next, by error code (absent: the message says it all). */
const ADVICE: Readonly<Record<string, string>> = {
  MODEL_FORMAT: 'Pick a llama2.c checkpoint in the legacy float32 format (e.g. stories15M.bin). The model you had is still in use.',
  TOKENIZER_FORMAT: 'Pick the tokenizer that belongs to this checkpoint (tok512.bin for stories260K, tokenizer.bin for the stories15M family). The model you had is still in use.',
  TOKENIZER: 'Pick the tokenizer that belongs to this checkpoint. The model you had is still in use.',
  MODEL_FETCH: 'Check both addresses, and that their server allows this page to fetch them (CORS and Cross-Origin-Resource-Policy). The model you had is still in use.',
  RELAY_UNREACHABLE: 'Check the relay address in Settings ("npm start" prints where the app runs; the relay address is served at /cerberus.json), then press Try again.',
  NO_RELAY: 'Start the app with "npm start" (it starts a relay and tells this page its address), or enter a relay address in Settings.',
  CLIENT_BUSY: 'Wait for the current answer to finish, or press Stop.',
  GENERATION_OPTIONS: 'Check the settings: temperature 0–2, top-p 0–1, at least one new token.'
}

/** Advice for `code`, if there is any. */
export function adviceFor (code: string): string | undefined {
  return ADVICE[code]
}
