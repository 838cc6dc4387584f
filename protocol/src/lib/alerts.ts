import type { AlertEvent, AlertSeverity, AlertState } from './live';
import type { AlertRule, AlertRuleKind } from './alerts.schema';
import { isValidId } from './ids';

/**
 * The alert contract without zod: severities, states, limits and the response shapes of the
 * alert engine (`alert` / `alerts` / `ack` live events, `/api/alerts`, `/api/alerts/:id/ack`,
 * `/api/alert-rules`). Part of the zod-free core entry: it must not import zod or any
 * `*.schema.ts` value (the rule and request schemas live in `alerts.schema.ts`).
 */

/** Most severe first (the order a list of active alerts is sorted in). */
export const ALERT_SEVERITIES = [
  'critical',
  'major',
  'minor',
  'warning',
  'info',
] as const satisfies readonly AlertSeverity[];
export const ALERT_STATES = [
  'raised',
  'acknowledged',
  'cleared',
  'flapping',
] as const satisfies readonly AlertState[];
/** The rule kinds an alert event names (`kind`), without the rule schema. */
export const ALERT_KINDS = [
  'threshold',
  'rate',
  'nodata',
  'offline',
] as const satisfies readonly AlertRuleKind[];
// Compile-time check that the lists above name every member of the unions in live.ts.
type Missing<All, Listed> = Exclude<All, Listed> extends never ? true : never;
const everySeverity: Missing<AlertSeverity, (typeof ALERT_SEVERITIES)[number]> = true;
const everyState: Missing<AlertState, (typeof ALERT_STATES)[number]> = true;
const everyKind: Missing<AlertRuleKind, (typeof ALERT_KINDS)[number]> = true;
void everySeverity;
void everyState;
void everyKind;

export const ALERT_LIMITS = {
  /** Most rules in the engine (file + HTTP). */
  maxRules: 1000,
  /** Longest duration a rule may name (`forMs`, `windowMs`, `silenceMs`...): 7 days. */
  maxDurationMs: 7 * 86_400_000,
  maxNameLength: 128,
  /** Acknowledgement: who (1 to 64 characters) and an optional note. */
  maxAckByLength: 64,
  maxAckNoteLength: 500,
  /** Most events returned by one history query. */
  maxQueryLimit: 1000,
  /** Longest alert id (an engine's are ~20 characters: `al-<start>-<n>`); an ack names one. */
  maxIdLength: 128,
  /**
   * Longest alert message: a rule's name, a metric, figures and up to two reasons come to ~400
   * characters at most (backend alerts/alert-describe.ts).
   */
  maxMessageLength: 1024,
} as const;

/**
 * A `cadenceMultiple` no-data rule's `unknownPaceMs` when it names none: 2 h, past an hourly
 * battery sensor's second report and short of the next morning (decision 0066).
 */
export const DEFAULT_UNKNOWN_PACE_MS = 7_200_000;

/**
 * An active alert's condition is still on (raised, flapping, or acknowledged and still firing).
 * The active list also holds alerts whose condition cleared while nobody had acknowledged them
 * (ISA-18.2's "returned to normal, unacknowledged"): those wait for an acknowledgement, and
 * neither the fleet summary's `alert` nor the dashboard counts or colours them by severity, so a
 * screen whose devices are all fine again does not look alarmed.
 */
export function isConditionOn(alert: AlertEvent): boolean {
  return alert.clearedAt === null;
}

type Check<T> = (value: unknown) => value is T;
const text =
  (min: number, max: number): Check<string> =>
  (v): v is string =>
    typeof v === 'string' && v.length >= min && v.length <= max;
const oneOf =
  <T extends string>(list: readonly T[]): Check<T> =>
  (v): v is T =>
    (list as readonly unknown[]).includes(v);
const orNull =
  <T>(check: Check<T>): Check<T | null> =>
  (v): v is T | null =>
    v === null || check(v);
const finite: Check<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
const time: Check<number> = (v): v is number => finite(v) && v >= 0;
const flag: Check<boolean> = (v): v is boolean => typeof v === 'boolean';

/**
 * What each field of an alert event must be. The type makes a field added to AlertEvent fail to
 * compile until it is checked here, and each check narrow to its field's type.
 */
const ALERT_EVENT_FIELDS: { [K in keyof AlertEvent]-?: Check<AlertEvent[K]> } = {
  id: text(1, ALERT_LIMITS.maxIdLength),
  ruleId: isValidId,
  kind: oneOf(ALERT_KINDS),
  deviceId: isValidId,
  metric: orNull(isValidId),
  severity: oneOf(ALERT_SEVERITIES),
  state: oneOf(ALERT_STATES),
  message: text(0, ALERT_LIMITS.maxMessageLength),
  value: orNull(finite),
  raisedAt: time,
  acknowledgedAt: orNull(time),
  acknowledgedBy: orNull(text(1, ALERT_LIMITS.maxAckByLength)),
  clearedAt: orNull(time),
  ruleName: text(1, ALERT_LIMITS.maxNameLength),
  threshold: orNull(finite),
  updatedAt: time,
  flapping: flag,
  count: (v): v is number => Number.isSafeInteger(v) && (v as number) >= 1,
  active: flag,
  ackNote: orNull(text(0, ALERT_LIMITS.maxAckNoteLength)),
};
/** Every field of an alert event, in the contract's order. */
export const ALERT_EVENT_KEYS = Object.keys(ALERT_EVENT_FIELDS) as readonly (keyof AlertEvent)[];

/**
 * An alert event from outside (another gateway's, over Redis), checked field by field: a copy
 * holding only the contract's fields (one a newer sender added is left out, not passed on
 * unchecked), or the first field that is missing or wrong (null: not an object). `absent`: what
 * a field a sender may leave out means (one added since that sender was built: a rolling
 * upgrade); its value is checked like a sent one.
 */
export function parseAlertEvent(
  value: unknown,
  absent: Partial<AlertEvent> = {},
): { ok: true; alert: AlertEvent } | { ok: false; field: keyof AlertEvent | null } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, field: null };
  const source = value as Record<string, unknown>;
  let filled: Record<string, unknown> | null = null; // the source with what `absent` gave
  for (const field of ALERT_EVENT_KEYS) {
    let v = source[field];
    if (v === undefined && field in absent) {
      v = absent[field];
      (filled ??= { ...source })[field] = v;
    }
    if (!ALERT_EVENT_FIELDS[field](v)) return { ok: false, field };
  }
  return { ok: true, alert: copyAlertEvent((filled ?? source) as unknown as AlertEvent) };
}

/**
 * The contract's fields of a checked event, as one object literal: a screen checks a storm's
 * 5,000 at once, and the copy built key by key from the table above made a parse four times as
 * slow (2.3 ms per 1,000 events, against 0.55 ms so; Node 20). The return type makes a field
 * added to AlertEvent fail to compile here too.
 */
function copyAlertEvent(s: AlertEvent): AlertEvent {
  return {
    id: s.id,
    ruleId: s.ruleId,
    kind: s.kind,
    deviceId: s.deviceId,
    metric: s.metric,
    severity: s.severity,
    state: s.state,
    message: s.message,
    value: s.value,
    raisedAt: s.raisedAt,
    acknowledgedAt: s.acknowledgedAt,
    acknowledgedBy: s.acknowledgedBy,
    clearedAt: s.clearedAt,
    ruleName: s.ruleName,
    threshold: s.threshold,
    updatedAt: s.updatedAt,
    flapping: s.flapping,
    count: s.count,
    active: s.active,
    ackNote: s.ackNote,
  };
}

/**
 * Outcome of an acknowledgement (HTTP response body and live `ack` acknowledgement). Over
 * `/live`, `unauthorized` (no identity) and `forbidden` (role below operator) refuse it before
 * the alert is looked up; over HTTP those are 401/403 responses.
 */
export type AckResponse =
  | { ok: true; alert: AlertEvent }
  | {
      ok: false;
      error: 'not_found' | 'already_acknowledged' | 'invalid' | 'unauthorized' | 'forbidden';
      message: string;
    };

const ACK_ERRORS = [
  'not_found',
  'already_acknowledged',
  'invalid',
  'unauthorized',
  'forbidden',
] as const satisfies readonly Extract<AckResponse, { ok: false }>['error'][];

/**
 * The rule kind the gateway's `describeAlert` (backend/src/app/alerts/alert-describe.ts) wrote `event`'s message for, read back; null when the
 * message was not written so. For events stored before AlertEvent carried its `kind`
 * (a gateway's stored rows, a peer or a screen meeting an older gateway's events): keep in step
 * with that wording. After `<rule name>: ` comes
 * `no <metric, or data> for` (nodata), `device offline` (offline, no metric), `<metric> changed
 * by` (rate) or `<metric> <value> above|below|outside` (threshold), and any reasons of a clear
 * after it: a metric name holds no space and a value is a number or `—`, so none reads as another.
 */
export function kindFromWording(
  event: Pick<AlertEvent, 'message' | 'ruleName' | 'metric'>,
): AlertRuleKind | null {
  const prefix = `${event.ruleName}: `;
  if (!event.message.startsWith(prefix)) return null;
  const said = event.message.slice(prefix.length);
  const metric = event.metric;
  if (said.startsWith(`no ${metric ?? 'data'} for `)) return 'nodata';
  if (metric === null) return /^device offline(?: for | \(|$)/.test(said) ? 'offline' : null;
  if (!said.startsWith(`${metric} `)) return null;
  const rest = said.slice(metric.length + 1);
  if (rest.startsWith('changed by ')) return 'rate';
  return /^\S+ (?:above|below|outside) /.test(rest) ? 'threshold' : null;
}

/**
 * The kind of an alert event sent without one (by a gateway built before `kind`, 2026-12-06),
 * from its fields: without a metric, offline when it reports neither value nor threshold, else
 * no-data (threshold and rate rules always name a metric); with one, `threshold`.
 */
export function kindFromFields(
  event: Pick<AlertEvent, 'metric' | 'value' | 'threshold'>,
): AlertRuleKind {
  if (event.metric !== null) return 'threshold';
  return event.value === null && event.threshold === null ? 'offline' : 'nodata';
}

/**
 * {@link parseAlertEvent} for an event that may come from a gateway built before `kind`
 * (2026-12-06): one without it is read, not refused (a rolling upgrade would blank its alerts),
 * checked with a stand-in and then given `kindOf` of itself: by default the kind its words were
 * written for, else its fields say (as the gateway does for rows stored then).
 */
export function parseAlertEventOfAnyBuild(
  value: unknown,
  kindOf: (event: AlertEvent) => AlertRuleKind = (event) =>
    kindFromWording(event) ?? kindFromFields(event),
): ReturnType<typeof parseAlertEvent> {
  const parsed = parseAlertEvent(value, KIND_UNSAID);
  if (!parsed.ok || (value as { kind?: unknown }).kind !== undefined) return parsed;
  parsed.alert.kind = kindOf(parsed.alert);
  return parsed;
}

const KIND_UNSAID: Partial<AlertEvent> = { kind: 'threshold' };

/**
 * An acknowledgement's outcome from outside (another gateway's answer to `pulse:ack`, over
 * Redis): a copy holding only the contract's fields, its alert checked by {@link parseAlertEvent}
 * (or `parseAlert`: the receiver's reading of a peer's event) and a refusal's error one of the
 * contract's, its message a text of at most an alert message's length; or what was wrong (`ok`,
 * `alert.<field>`, `error`, `message`; null: not an object).
 */
export function parseAckResponse(
  value: unknown,
  parseAlert: (value: unknown) => ReturnType<typeof parseAlertEvent> = parseAlertEvent,
): { ok: true; response: AckResponse } | { ok: false; field: string | null } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, field: null };
  const source = value as Record<string, unknown>;
  if (source['ok'] === true) {
    const parsed = parseAlert(source['alert']);
    if (!parsed.ok) return { ok: false, field: `alert${parsed.field ? `.${parsed.field}` : ''}` };
    return { ok: true, response: { ok: true, alert: parsed.alert } };
  }
  if (source['ok'] !== false) return { ok: false, field: 'ok' };
  const { error, message } = source;
  if (!oneOf(ACK_ERRORS)(error)) return { ok: false, field: 'error' };
  if (!text(0, ALERT_LIMITS.maxMessageLength)(message)) return { ok: false, field: 'message' };
  return { ok: true, response: { ok: false, error, message } };
}

/** `GET /api/alerts`: the active list (raised, flapping, acknowledged, cleared but not yet acknowledged). */
export interface ActiveAlertsResponse {
  alerts: AlertEvent[];
  /** The gateway's active-list version the list is at (`<boot>.<n>`, see AlertsVersionEvent). */
  version: string;
}

/**
 * The handshake's `auth.alerts` value by which a client asks for the `alertsVersion` greeting
 * instead of the `alerts` snapshot (any other value, or none: the snapshot).
 */
export const ALERTS_OVER_HTTP = 'http';

/** An active-list version: the gateway process (`boot`) and its count of changes (`n`). */
export interface AlertsVersion {
  boot: string;
  n: number;
}

const ALERTS_VERSION = /^([A-Za-z0-9_-]{1,32})\.(\d{1,15})$/;

/** `<boot>.<n>` read back; null for anything else. */
export function parseAlertsVersion(text: unknown): AlertsVersion | null {
  const match = typeof text === 'string' ? ALERTS_VERSION.exec(text) : null;
  return match ? { boot: match[1], n: Number(match[2]) } : null;
}

export function formatAlertsVersion(version: AlertsVersion): string {
  return `${version.boot}.${version.n}`;
}

/** `GET /api/alerts/history`. */
export interface AlertHistoryResponse {
  events: AlertEvent[];
}

/** `GET /api/alert-rules`. */
export interface AlertRulesResponse {
  rules: AlertRule[];
  /**
   * Each listed rule's entity tag by rule id, as `GET /api/alert-rules/:id` sends it in `ETag`:
   * what a writer sends back in `If-Match` so a change made meanwhile is not overwritten
   * (docs/decisions/0072). Absent from gateways older than 0072: write without `If-Match` then.
   */
  etags?: Record<string, string>;
  /**
   * Admins only: rules saved in the store that the schema of this gateway's version refuses (an
   * upgrade tightened it). They do not run; they are kept as saved and written back with the
   * next save of the set, until a rule of the same id replaces one (docs/decisions/0072,
   * addendum 2). Absent from older gateways, from a gateway with ALERT_RULES_FILE (a bad file
   * stops the start), and for other roles.
   */
  refused?: RefusedStoredRule[];
}

/** A stored rule the schema refused at boot (`GET /api/alert-rules` → `refused`). */
export interface RefusedStoredRule {
  /** Its id as saved, or null when it has none that is a string. */
  id: string | null;
  /** Why, one `path: message` line each (the path within the rule), at most a few. */
  issues: string[];
}

/**
 * Why a rule write was refused 412 Precondition Failed: the rule changed since the writer read
 * it (`If-Match` names another tag), it no longer exists (a PUT with `If-Match` of a deleted rule;
 * a DELETE of one is 404, as without the header: RFC 9110 §13.2.1), or it
 * exists (`If-None-Match: *`, a create-only PUT).
 */
export type RuleConflictReason = 'rule_changed' | 'rule_gone' | 'rule_exists';

/**
 * The body of a 412 of `PUT`/`DELETE /api/alert-rules/:id` (with the error fields every refusal
 * has, decision 0056): the rule as the gateway holds it now and its tag, for the writer to show
 * and build on, or null for both when it no longer exists.
 */
export interface RuleConflictResponse {
  statusCode: 412;
  error: RuleConflictReason;
  message: string;
  rule: AlertRule | null;
  etag: string | null;
  /**
   * `rule_exists` only: whether the rule sent, as the gateway parsed it (defaults filled in), is
   * the stored one (same tag): a create sent twice, done already. Still a 412 (RFC 9110 has no
   * "already done" for `If-None-Match`); the writer decides, not by comparing fields itself.
   * Absent from older gateways: take it as false.
   */
  same?: boolean;
}

/** Alert engine counters in `GET /api/stats` (`alerts`). */
export interface AlertStats {
  /** Rules loaded (file + HTTP), disabled ones included. */
  rules: number;
  enabledRules: number;
  /** Rule × device (× metric) evaluation states held. */
  states: number;
  /** Alerts on the active list (raised, flapping, acknowledged, cleared but not yet acknowledged). */
  active: number;
  /** States refused because the engine's state limit was reached (alerts not evaluated for them). */
  refusedStates: number;
  /** Readings older than the newest already evaluated for the same rule × device: ignored. */
  outOfOrder: number;
  /** Readings too old to raise or clear (they only count as signs of life). */
  late: number;
  /** Readings stamped too far in the future: ignored. */
  future: number;
  /** Lifecycle events since start. */
  events: number;
  /** Events held for `GET /api/alerts/history`. */
  historySize: number;
  /** Alert listeners (e.g. the live push) that threw. */
  listenerErrors: number;
  /** Rules file writes after HTTP changes (0 without ALERT_RULES_FILE). */
  rulesSaved: number;
  /**
   * Rule writes refused 412 Precondition Failed (`If-Match` / `If-None-Match`): someone else
   * changed, removed or created the rule first (docs/decisions/0072).
   */
  ruleConflicts: number;
  /**
   * Ticks of the alert timer that came long overdue (the process did not run: frozen, a long
   * pause) and did not judge silences: what devices sent meanwhile was still queued.
   */
  lateTicks?: number;
  /**
   * Several gateways: rule sets another gateway changed and this one took (`rulesFromPeers`), and
   * those it left: older than its own (`rulesFromPeersOlder`, harmless), or that did not validate
   * here (`rulesFromPeersInvalid`: the gateways run different rules; a rolling upgrade that
   * added a rule field, say; or a malformed change or catch-up answer, logged). And the peers'
   * catch-up questions whose version was malformed, answered with nothing
   * (`rulesCatchUpsInvalid`, logged).
   */
  rulesFromPeers?: number;
  rulesFromPeersOlder?: number;
  rulesFromPeersInvalid?: number;
  rulesCatchUpsInvalid?: number;
  /**
   * Rules saved in the store that the schema refused at boot, held as saved (not run) until a
   * save replaces them: nonzero means alerts an admin saved are not raised (the log and
   * `GET /api/alert-rules` → `refused` say which and why).
   */
  storedRulesRefused?: number;
}

/**
 * When a rule set was changed and where (several gateways, `pulse:rules`): the newest wins, the
 * time first, then the changer's id.
 */
export interface RulesVersion {
  at: number;
  by: string;
}
