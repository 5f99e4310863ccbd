/**
 * The gateway: an OpenAI-compatible HTTP API on this machine over Cerberus's private
 * pipeline (or local mode), so every existing client and tool works unchanged. It sits
 * above the app layer and is assembled by `cerberus serve` (src/cli/serve.ts), which
 * injects the {@link GatewayBackend}.
 *
 * @example
 * ```ts
 * const gateway = await startGateway(backend, { port: 8080 })
 * const client = new OpenAI({ baseURL: gateway.baseUrl, apiKey: 'unused' })
 * ```
 */
export { startGateway, isLoopback, DEFAULT_GATEWAY_HOST, DEFAULT_GATEWAY_PORT, type Gateway, type GatewayOptions } from './server.ts'
export type { AnswerPath, GatewayBackend, GatewayModel } from './backend.ts'
export { chatPrompt, plainChatPrompt, PLAIN_SEPARATOR, type ChatTemplate } from './chat-prompt.ts'
export { PRIVATE_MODE_LABEL, type CompletionResult } from './completion-run.ts'
export { GatewayError, InvalidRequestError, NoMinersError, NotFoundError, QueueFullError, TooLargeError, UnauthorizedError, errorResponse, type OpenAiErrorBody } from './errors.ts'
export { MAX_WAITING_REQUESTS } from './queue.ts'
export { MAX_BODY_BYTES } from './read-body.ts'
export { MAX_MESSAGES, MAX_STOP_CHARS, MAX_STOP_SEQUENCES, type ChatMessage, type ChatRequest, type CompletionRequest, type GenerationRequest } from './validate.ts'
export type { AnswerInfo } from './routes.ts'
export type { CerberusReceipt, FinishReason, Usage } from './openai-shapes.ts'
