import { z } from 'zod';
import { ALERT_LIMITS, ALERT_SEVERITIES, ALERT_STATES } from './alerts';
import { LIMITS } from './limits';
import { IdSchema } from './model.schema';
import { queryNumber } from './query.schema';

/**
 * Alert rules, the alert history query and acknowledgements, validated: the schemas of the
 * alert engine's inputs (rules file, `/api/alert-rules`, `/api/alerts/history`, acknowledgements).
 * Every duration is in ms. Owns validation only; constants and response shapes live in the
 * zod-free `alerts.ts`, which must never import this file's values.
 */

export const AlertSeveritySchema = z.enum(ALERT_SEVERITIES);
export const AlertStateSchema = z.enum(ALERT_STATES);

const duration = z.number().int().nonnegative().max(ALERT_LIMITS.maxDurationMs);
const positiveDuration = z.number().int().positive().max(ALERT_LIMITS.maxDurationMs);
const level = z.number().finite();

/**
 * Which devices a rule watches: exactly one of one device, one group (from the
 * device's retained meta), or every device. Default: every device.
 */
export const AlertScopeSchema = z
  .object({
    device: IdSchema.optional(),
    group: IdSchema.optional(),
    all: z.literal(true).optional(),
  })
  .strict()
  .superRefine((scope, ctx) => {
    const set = [scope.device, scope.group, scope.all].filter((v) => v !== undefined).length;
    if (set !== 1)
      ctx.addIssue({
        code: 'custom',
        message: 'set exactly one of device, group or all: true',
      });
  });
export type AlertScope = z.infer<typeof AlertScopeSchema>;

const common = {
  id: IdSchema,
  /** Shown with every alert of the rule; defaults to the id. */
  name: z.string().min(1).max(ALERT_LIMITS.maxNameLength).optional(),
  severity: AlertSeveritySchema,
  scope: AlertScopeSchema.default({ all: true }),
  /** A disabled rule is kept but not evaluated (its open alerts are cleared). */
  enabled: z.boolean().default(true),
};

/**
 * Threshold with hysteresis and durations.
 * - `above`: raised when value > `value`, cleared when value < `clear` (default `value`).
 * - `below`: raised when value < `value`, cleared when value > `clear` (default `value`).
 * - `outside`: raised when value < `low` or > `high`; cleared when `clearLow` < value < `clearHigh`
 *   (defaults `low` / `high`).
 * Between the raise and clear levels (the dead band) the state does not change.
 * The raise condition must hold continuously, by reading timestamps, for `forMs` before it
 * raises and the clear condition for `clearForMs` before it clears: a reading in the dead band
 * counts for neither (it breaks a run towards either).
 */
export const ThresholdRuleSchema = z
  .object({
    ...common,
    kind: z.literal('threshold'),
    metric: IdSchema,
    op: z.enum(['above', 'below', 'outside']),
    value: level.optional(),
    clear: level.optional(),
    low: level.optional(),
    high: level.optional(),
    clearLow: level.optional(),
    clearHigh: level.optional(),
    forMs: duration.default(0),
    clearForMs: duration.default(0),
  })
  .strict();

/**
 * Rate of change: the change of `metric` between the oldest reading inside the last
 * `windowMs` and the newest, per second (`per: 'second'`, the default) or over the
 * window (`per: 'window'`). Raised when it exceeds `maxDelta` in `direction`
 * (`up`, `down` or `either`, default either); cleared when back within `clear`
 * (default `maxDelta`).
 */
export const RateRuleSchema = z
  .object({
    ...common,
    kind: z.literal('rate'),
    metric: IdSchema,
    windowMs: positiveDuration,
    maxDelta: z.number().finite().positive(),
    clear: z.number().finite().nonnegative().optional(),
    per: z.enum(['second', 'window']).default('second'),
    direction: z.enum(['up', 'down', 'either']).default('either'),
    forMs: duration.default(0),
    clearForMs: duration.default(0),
  })
  .strict();

/**
 * No data: a device (no `metric`: any reading) or one of its metrics silent for
 * `silenceMs`, or for `cadenceMultiple` times its learned reading interval; with
 * both, the longer wins (`unknownPaceMs` while the interval is unknown). Devices and
 * metrics seen since the gateway started are watched, and those the device registry
 * kept across a restart (decision 0065); a device whose status is `offline` is left
 * to the offline rule.
 */
export const NoDataRuleSchema = z
  .object({
    ...common,
    kind: z.literal('nodata'),
    metric: IdSchema.optional(),
    silenceMs: positiveDuration.optional(),
    cadenceMultiple: z.number().finite().min(1.5).max(1000).optional(),
    /**
     * With `cadenceMultiple`: the silence that raises while a device's interval is unknown (heard
     * once), >= `silenceMs`. Default 2 h (`DEFAULT_UNKNOWN_PACE_MS`), or `silenceMs` if longer.
     */
    unknownPaceMs: positiveDuration.optional(),
  })
  .strict();

/** Device offline (`status` topic, e.g. its Last Will) for `forMs` (default 0). */
export const OfflineRuleSchema = z
  .object({
    ...common,
    kind: z.literal('offline'),
    forMs: duration.default(0),
  })
  .strict();

/** One alert rule, validated (config file and HTTP alike). */
export const AlertRuleSchema = z
  .discriminatedUnion('kind', [
    ThresholdRuleSchema,
    RateRuleSchema,
    NoDataRuleSchema,
    OfflineRuleSchema,
  ])
  .superRefine((rule, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (
      rule.kind === 'nodata' &&
      rule.silenceMs === undefined &&
      rule.cadenceMultiple === undefined
    ) {
      issue('silenceMs', 'set silenceMs, cadenceMultiple or both');
    }
    if (rule.kind === 'nodata' && rule.unknownPaceMs !== undefined) {
      if (rule.cadenceMultiple === undefined)
        issue('unknownPaceMs', 'only used with cadenceMultiple');
      else if (rule.silenceMs !== undefined && rule.unknownPaceMs < rule.silenceMs)
        issue('unknownPaceMs', `must be >= silenceMs (${rule.silenceMs})`);
    }
    if (rule.kind === 'rate' && rule.clear !== undefined && rule.clear > rule.maxDelta) {
      issue('clear', `must be <= maxDelta (${rule.maxDelta})`);
    }
    if (rule.kind !== 'threshold') return;
    if (rule.op === 'outside') {
      for (const key of ['value', 'clear'] as const) {
        if (rule[key] !== undefined)
          issue(key, 'not used with op "outside": use low/high and clearLow/clearHigh');
      }
      if (rule.low === undefined) issue('low', 'required with op "outside"');
      if (rule.high === undefined) issue('high', 'required with op "outside"');
      if (rule.low === undefined || rule.high === undefined) return;
      if (rule.low >= rule.high) issue('high', `must be > low (${rule.low})`);
      const clearLow = rule.clearLow ?? rule.low;
      const clearHigh = rule.clearHigh ?? rule.high;
      if (clearLow < rule.low) issue('clearLow', `must be >= low (${rule.low})`);
      if (clearHigh > rule.high) issue('clearHigh', `must be <= high (${rule.high})`);
      if (clearLow >= clearHigh) issue('clearHigh', `must be > clearLow (${clearLow})`);
      return;
    }
    for (const key of ['low', 'high', 'clearLow', 'clearHigh'] as const) {
      if (rule[key] !== undefined) issue(key, `not used with op "${rule.op}": use value and clear`);
    }
    if (rule.value === undefined) return issue('value', `required with op "${rule.op}"`);
    if (rule.clear === undefined) return;
    if (rule.op === 'above' && rule.clear > rule.value)
      issue('clear', `must be <= value (${rule.value}) with op "above"`);
    if (rule.op === 'below' && rule.clear < rule.value)
      issue('clear', `must be >= value (${rule.value}) with op "below"`);
  });
/** A rule as written (defaults optional). */
export type AlertRuleInput = z.input<typeof AlertRuleSchema>;
/** A validated rule, defaults filled in. */
export type AlertRule = z.output<typeof AlertRuleSchema>;
export type AlertRuleKind = AlertRule['kind'];
export type ThresholdRule = Extract<AlertRule, { kind: 'threshold' }>;
export type RateRule = Extract<AlertRule, { kind: 'rate' }>;
export type NoDataRule = Extract<AlertRule, { kind: 'nodata' }>;
export type OfflineRule = Extract<AlertRule, { kind: 'offline' }>;

/** The rules file (JSON or YAML) loaded at start: `{ rules: [...] }`, ids unique. */
export const AlertRulesFileSchema = z
  .object({
    rules: z.array(AlertRuleSchema).max(ALERT_LIMITS.maxRules),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (seen.has(rule.id))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'id'],
          message: `duplicate rule id "${rule.id}"`,
        });
      seen.add(rule.id);
    });
  });
export type AlertRulesFile = z.output<typeof AlertRulesFileSchema>;

/**
 * `GET /api/alerts/history?deviceId&device&ruleId&severity&state&from&to&limit`: lifecycle events,
 * newest first. `from`/`to` bound the event time (`updatedAt`), inclusive.
 */
export const AlertQuerySchema = z
  .object({
    deviceId: IdSchema.optional(),
    /**
     * The dashboard's device filter: a known device's exact id names that device alone, any
     * other text part of a device's id or display name, any case (as its Active tab matches);
     * names are the registry's, a device no longer in it is matched by its id.
     */
    device: z.string().trim().min(1).max(LIMITS.maxNameLength).optional(),
    ruleId: IdSchema.optional(),
    severity: AlertSeveritySchema.optional(),
    state: AlertStateSchema.optional(),
    from: queryNumber().optional(),
    to: queryNumber().optional(),
    limit: queryNumber(z.number().int().positive().max(ALERT_LIMITS.maxQueryLimit)).default(100),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'must not be after to',
    path: ['from'],
  });
/** A validated query (`limit` defaulted). */
export type AlertQuery = z.output<typeof AlertQuerySchema>;

/**
 * `POST /api/alerts/:id/ack` body. `by` is accepted for compatibility with older clients and
 * ignored: the acknowledgement is recorded under the authenticated user's name.
 */
export const AckRequestSchema = z
  .object({
    by: z.string().trim().min(1).max(ALERT_LIMITS.maxAckByLength).optional(),
    note: z.string().max(ALERT_LIMITS.maxAckNoteLength).optional(),
  })
  .strict();
export type AckRequest = z.infer<typeof AckRequestSchema>;

/**
 * `POST /api/alerts/:id/ack`'s body: {@link AckRequestSchema}, where no body at all (no
 * content type, as `curl -X POST` sends) is an empty one: the note is optional.
 */
export const AckBodySchema = z.preprocess((body) => body ?? {}, AckRequestSchema);

/** Live `ack` request: the alert id plus the HTTP body. */
export const LiveAckRequestSchema = AckRequestSchema.extend({
  id: z.string().min(1).max(ALERT_LIMITS.maxIdLength),
}).strict();
export type LiveAckRequest = z.infer<typeof LiveAckRequestSchema>;
