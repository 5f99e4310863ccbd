/**
 * The job protocol `/cerberus/linear/1.0.0` between users and miners: typed, bounded,
 * validated binary frames (linear-protocol.ts).
 *
 * @example
 * ```ts
 * const bytes = frame(encodeMessage({ type: 'error', job: 'j1', code: 'MINER_BUSY', message: 'queue full' }))
 * const [body] = new FrameDecoder().push(bytes)
 * decodeMessage(body) // the same message, validated; a ProtocolError for anything malformed
 * ```
 */
export * from './linear-protocol.ts'
