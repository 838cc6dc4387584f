import type { AlertEvent } from '@pulse/protocol/core';

/*
 * Alert events for the specs: one builder with plausible defaults and its acknowledged form.
 * Test-only (excluded from the app build). Owns fixtures only; it must not reach Angular or the
 * stores, so service, store and pure-function specs can all use it.
 */

let seq = 0;

/** An alert event with sensible defaults (a raised critical threshold alert). */
export function alertEvent(overrides: Partial<AlertEvent> = {}): AlertEvent {
  seq++;
  const raisedAt = overrides.raisedAt ?? Date.UTC(2026, 10, 22, 1, 0, 0);
  return {
    id: `alert-${seq}`,
    ruleId: 'temp-high',
    kind: 'threshold',
    ruleName: 'Overheating',
    deviceId: 'd1',
    metric: 'temperature',
    severity: 'critical',
    state: 'raised',
    message: 'temperature 80 > 50',
    value: 80,
    threshold: 50,
    raisedAt,
    acknowledgedAt: null,
    acknowledgedBy: null,
    ackNote: null,
    clearedAt: null,
    updatedAt: raisedAt,
    flapping: false,
    count: 1,
    active: true,
    ...overrides,
  };
}

/** The same alert after an acknowledgement at `at` by `by`. */
export function acknowledged(alert: AlertEvent, by: string, at: number): AlertEvent {
  return { ...alert, state: 'acknowledged', acknowledgedAt: at, acknowledgedBy: by, updatedAt: at };
}
