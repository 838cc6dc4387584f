/*
 * `@pulse/protocol`: the whole contract — the zod-free core plus the schemas and the device
 * message decoder that validate outside input (backend, simulator, tests). Browsers import
 * `@pulse/protocol/core` instead.
 *
 * Owns nothing but this list: it must not define values of its own, and anything zod-free
 * belongs behind `core.ts` (whose import-graph test guards the browser bundle), not here.
 */
export * from './core';
export * from './lib/model.schema';
export * from './lib/live.schema';
export * from './lib/http.schema';
export * from './lib/alerts.schema';
export * from './lib/auth.schema';
export * from './lib/screens.schema';
export * from './lib/device-credentials.schema';
export * from './lib/decode';
export * from './lib/formats/index';
