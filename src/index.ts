/**
 * The core: verification (`verifyWebhook`), signing (`signWebhook`), the idempotent
 * dispatcher (`createWebhookReceiver`), typed errors, the in-memory store and every
 * provider scheme. Zero runtime dependencies; importing it loads no adapter, store client
 * or framework.
 *
 * ```ts
 * import { createWebhookReceiver, stripe, verifyWebhook } from "hookguard";
 * ```
 *
 * Adapters, stores and queues have their own subpaths: `hookguard/express`,
 * `hookguard/fastify`, `hookguard/node`, `hookguard/fetch`, `hookguard/redis`,
 * `hookguard/postgres`, `hookguard/bullmq`, and the store conformance kit in
 * `hookguard/testing`.
 *
 * @module hookguard
 */
export { verifyWebhook } from "./verify";
export { signWebhook } from "./sign";
export { readHeader } from "./headers";
export {
  createWebhookReceiver,
  type WebhookReceiver,
  type WebhookReceiverOptions,
  type WebhookHandler,
  type HandlerContext,
  type ErrorHandler,
  type BackgroundOptions,
  type VersioningOptions,
  type OrderingOptions,
  type HandlerOptions,
  type EventMap,
  type EventType,
  type PrefixPayload,
} from "./receiver";
export { inProcessQueue, type WebhookQueue, type WebhookJob, type JobAttempt, type JobProcessor, type InProcessQueueOptions } from "./queue";
export type { IdempotencyStore, ClaimResult, ClaimOptions, CompleteOptions, WatermarkResult } from "./store";
export { memoryStore, type MemoryStore, type MemoryStoreOptions } from "./stores/memory";
export type { WebhookResponse } from "./response";
export {
  WebhookError,
  WebhookVerificationError,
  isWebhookError,
  isWebhookVerificationError,
  verificationErrorStatus,
  type WebhookErrorCode,
  type WebhookReceiverErrorCode,
  type WebhookVerificationErrorCode,
  type WebhookErrorOptions,
} from "./errors";
export {
  hmacScheme,
  type HmacSchemeOptions,
  type HmacSignatureFormat,
  type HmacAlgorithm,
  type SecretFormat,
  type TimestampUnit,
  type TimestampSource,
  type ValueSource,
  type ExtractContext,
  type PresetOptions,
  type CryptoPreference,
} from "./schemes/hmac";
export { stripe, type StripeEventLike } from "./schemes/stripe";
export { github, type GitHubOptions } from "./schemes/github";
export { standardWebhooks } from "./schemes/standard-webhooks";
export { slack } from "./schemes/slack";
export { shopify, type ShopifyOptions } from "./schemes/shopify";
export * from "./providers";
export type {
  WebhookBody,
  WebhookHeaders,
  WebhookRequest,
  VerifiedWebhook,
  VerifyOptions,
  SignOptions,
  WebhookScheme,
  SchemeRequest,
  SchemeContext,
  VerifyFailure,
  VerifyOutcome,
  ResolvedSignOptions,
} from "./types";
