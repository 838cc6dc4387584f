/*
 * `@pulse/protocol/core`: the contract without zod — constants, ids, limits, topic and room
 * builders, payload and event types, and the pure primitives every project shares (backoff,
 * clock, the series buffer, the gateway's URL host). Browsers import this entry so no schema
 * reaches their bundle.
 *
 * Must not reach zod at runtime: only zod-free modules are re-exported as values; types that
 * schemas infer are re-exported type-only (erased on build). `core.spec.ts` walks this file's
 * import graph and fails if a value import leads to zod. Validation lives in the `*.schema.ts`
 * files and `decode.ts`, exported by the full `@pulse/protocol` entry (`index.ts`).
 */
export * from './lib/ids';
export * from './lib/limits';
export * from './lib/topics';
export * from './lib/model';
export * from './lib/rejections';
export * from './lib/encode';
export * from './lib/reading-check';
export * from './lib/live';
export * from './lib/summary-wire';
export * from './lib/series-wire';
export * from './lib/http';
export * from './lib/alerts';
export * from './lib/auth';
export * from './lib/screens';
export * from './lib/device-credentials';
export * from './lib/backoff';
export * from './lib/gateway-url';
export * from './lib/clock';
export * from './lib/receive-clock';
export * from './lib/series-buffer';
export * from './lib/span';
export type { DeviceMeta } from './lib/model.schema';
export type { SubscribeRequest, UnsubscribeRequest } from './lib/live.schema';
export type { FleetSummaryQuery, HistoryQuery, WindowsQuery } from './lib/http.schema';
export type {
  AckRequest,
  AlertQuery,
  AlertRule,
  AlertRuleInput,
  AlertRuleKind,
  AlertRulesFile,
  AlertScope,
  LiveAckRequest,
  NoDataRule,
  OfflineRule,
  RateRule,
  ThresholdRule,
} from './lib/alerts.schema';
export type {
  ChangePasswordRequest,
  CreateTokenRequest,
  CreateUserRequest,
  LoginRequest,
  SetupRequest,
  TokenListQuery,
  UpdateUserRequest,
} from './lib/auth.schema';
export type {
  CreateScreenRequest,
  PairingClaimRequest,
  UpdateScreenRequest,
} from './lib/screens.schema';
export type { CreateBridgeCredentialRequest } from './lib/device-credentials.schema';
