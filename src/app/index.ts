/**
 * The app layer: the roles of Cerberus assembled from the layers below, each once, with
 * their components injected — platform-neutral; the browser's components are in
 * platform.web.ts, Node's in src/node/platform.node.ts.
 *
 * - {@link createPrivateGeneration}: the user's pipeline (plan → HE session → miners →
 *   verified encrypted backend → tokens and receipts), used by the client, the CLI, the
 *   benchmarks and the gateway;
 * - {@link createLocalGeneration}: local mode — the same plan's plaintext twin on this
 *   device, nothing sent (pages run it in a Web Worker: local-generation.web.ts);
 * - {@link startMinerNode}: a miner (service + mesh), used by the donor tab and
 *   `cerberus miner`;
 * - {@link startValidator}: a validator (a user's visits with exact checks, signed scores),
 *   used by `cerberus validator`;
 * - {@link joinMesh}, {@link createMinerLinks}, {@link createPeerViews}: a peer on the
 *   mesh, the user's scheduler over the miners of her model (with validators' standings),
 *   the network panel's views;
 * - {@link createCerberusClient} and {@link createDonor}: the browser roles the UI drives.
 *
 * @example
 * ```ts
 * import { createCerberusClient } from '../app/index.ts'
 * import { webClientComponents } from '../app/platform.web.ts'
 * const client = createCerberusClient({ relay }, webClientComponents())
 * await client.start({ kind: 'default' })
 * const receipt = await client.generate('Once upon a time', { temperature: 0, topp: 0.9, maxTokens: 32 }, { onText: t => { out.textContent += t } })
 * ```
 */
export { createCerberusClient, ClientBusyError, type ClientComponents, type ClientOptions } from './client.ts'
export { createDonor, type DonorComponents, type DonorOptions } from './donor.ts'
export { joinMesh, type MeshMember, type MeshMemberOptions } from './mesh-member.ts'
export { createMinerLinks, JOB_TIMEOUT_MS, SCORES_SETTLE_MS, untilMinersReady, type DropReason, type MinerLinks, type MinerLinksOptions } from './miner-links.ts'
export { emptyTally, knownAnswerCheck, KNOWN_ANSWER_LIMITS, type MinerTally } from './known-answer.ts'
export { localMinerLink } from './local-miner.ts'
export { MINER_SQUEEZE, startMinerNode, type MinerNode, type MinerNodeComponents, type MinerNodeOptions } from './miner-node.ts'
export { parseModel, sha256Hex, type ByteProgress, type LoadedModel, type ModelFiles, type ModelLoader } from './model-source.ts'
export { connectionKind, createPeerViews, publicError, PING_INTERVAL_MS, type PeerViews } from './peer-views.ts'
export { modelChatTemplate, type ChatTemplateFn } from './chat.ts'
export { answerSteps, promptTokens, type AnswerRun, type GenerationCallbacks, type GenerationModel, type GenerationSettings } from './answer-loop.ts'
export { createPrivateGeneration, GenerationBusyError, type PrivateGeneration, type PrivateGenerationComponents, type PrivateGenerationOptions } from './private-generation.ts'
export { answerPadding, bucketOf, PADDING_LIMITS, PaddingOptionsError, type AnswerPadding, type PaddedLengths } from './padding.ts'
export { createLocalGeneration, localReceipt, LOCAL_MODE_LABEL, LOCAL_YIELD_MS, type LocalGeneration, type LocalGenerationOptions } from './local-generation.ts'
export { startValidator, type Validator, type ValidatorComponents, type ValidatorEvent, type ValidatorOptions } from './validator.ts'
export { cryptoRandom, drawVisit, USER_MIX, type DrawnAnswer, type UserMix } from './user-mix.ts'
export type * from './types.ts'
