import { z } from 'zod';
import { IdSchema } from './model.schema';

/**
 * Requests of `/api/bridge-credentials`, validated. Owns validation only; the response shapes
 * and the username's prefix live in the zod-free `device-credentials.ts`.
 */

/**
 * A bridge credential's name: an id (1 to 64 of `A-Z a-z 0-9 _ - .`), so its username
 * `bridge:<name>` is never a device id and never holds an MQTT wildcard.
 */
export const BridgeNameSchema = IdSchema;

/** `POST /api/bridge-credentials` (admin): make the named bridge's secret, or rotate it. */
export const CreateBridgeCredentialRequestSchema = z.object({ name: BridgeNameSchema }).strict();
export type CreateBridgeCredentialRequest = z.infer<typeof CreateBridgeCredentialRequestSchema>;
