/**
 * The model core: model files (llama2.c checkpoints and tokenizers, GGUF files with their
 * tokenizers and chat templates), the forward pass, run.c's sampler, and the W8A8
 * quantized twin of the encrypted pipeline. The forward pass yields rounds (batched,
 * unfused or round-fused); `forwardProgram` is its one-token, unfused form.
 * Pure TypeScript: no DOM, no Node, no network.
 *
 * @example
 * ```ts
 * import { loadModelBytes, encodeChat, createEngine, createSampler, createRng, generate } from './src/core/model/index.ts'
 * const { ckpt, tokenizer } = loadModelBytes(modelBytes, tokenizerBytes) // tokenizerBytes only for a llama2.c .bin
 * const sampler = createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
 * for (const t of generate(createEngine('f32', ckpt), tokenizer, sampler, { prompt: 'Once upon a time', steps: 64 })) {
 *   process.stdout.write(t.bytes)
 * }
 * // A chat model: the prompt is its template, rendered and encoded with special tokens.
 * const promptTokens = encodeChat(tokenizer, [{ role: 'user', content: 'Hi!' }])
 * ```
 */
export { parseCheckpoint, parseConfig, expectedCheckpointBytes, ropeTheta, type Checkpoint, type CheckpointWeights, type ModelConfig } from './checkpoint.ts'
export { parseTokenizer, encode, decodePiece, BOS, EOS, UNK, type Tokenizer, type Llama2cTokenizer, type TokenizerKind, type EncodeOptions } from './tokenizer.ts'
export { loadModelBytes, detectModelFormat, type LoadedModelBytes, type ModelFormat } from './load-model.ts'
export { parseGguf, isGguf, GGUF_LIMITS, type GgufFile, type GgufValue, type GgufTensorInfo } from './gguf.ts'
export { ggufCheckpoint, type GgufCheckpointOptions } from './gguf-checkpoint.ts'
export { ggufTokenizer } from './gguf-tokenizer.ts'
export { renderChat, encodeChat, PLAIN_CHAT_TEMPLATE, type ChatMessage, type RenderChatOptions } from './chat-template.ts'
export { createRng, randomU32, randomF32, type RngState } from './rng.ts'
export { createSampler, sample, argmax, softmaxF32, type Sampler, type SamplerOptions } from './sampler.ts'
export { generate, resolveSteps, type GenerateOptions, type GeneratedToken, type LogitsEngine } from './generate.ts'
export { forwardProgram, forwardRounds, runForward, runRounds, createRunState, rmsnorm, UNFUSED, type LinearGroup, type FusedGroup, type RoundGroup, type LinearRequest, type BatchRequest, type LinearRound, type ForwardLayout, type LinearBackendSync, type RoundBackendSync, type RunState, type TransformerParams } from './forward.ts'
export { groupMatrices, linearGroups, matvecF32, f32Backend, type MatrixRef } from './linear.ts'
export { quantizeModel, quantizeModelAsync, QUANTIZE_SLICE_WEIGHTS, quantizeMatrix, quantizeActivation, matvecInt8, dequantize, roundHalfAway, groupKey, w8a8Backend, INT8_MAX, type QuantizedMatrix, type W8A8Model, type QuantizeOptions } from './w8a8.ts'
export { createEngine, backendEngine, exactEngine, f32Engine, w8a8Engine, ENGINE_KINDS, type EngineKind } from './engines.ts'
export { evalQuant, type EvalQuantOptions, type QuantReport, type QuantVariantReport } from './eval-quant.ts'
export { ModelFormatError, TokenizerFormatError, TokenizerError, GenerationOptionsError, GgufFormatError, UnsupportedModelError, ChatTemplateError, ModelLoadError } from './errors.ts'
export { syntheticModel, syntheticModelBytes, syntheticTokenizerBytes, SYNTHETIC_768X12, type SyntheticConfig } from './synthetic.ts'
