import { DEFAULT_UNKNOWN_PACE_MS, formatSpan } from '@pulse/protocol/core';
import type {
  AlertRule,
  AlertRuleKind,
  AlertScope,
  NoDataRule,
  RateRule,
  ThresholdRule,
} from '@pulse/protocol/core';

/*
 * An alert rule in words for the rules table: its kind, its condition (`temperature above 68 for
 * 10 s, clears below 66`) and its scope. Pure; owns the wording only. It must not decide what a
 * rule does: the words follow the schema's documentation (protocol alerts.schema.ts) and the
 * gateway's alert engine is what evaluates.
 */

export const KIND_LABELS: Record<AlertRuleKind, string> = {
  threshold: 'threshold',
  rate: 'rate of change',
  nodata: 'no data',
  offline: 'offline',
};

/** Which devices the rule watches: `all devices`, `group hall-a`, `device boiler-1`. */
export function scopeText(scope: AlertScope | undefined): string {
  if (scope?.device !== undefined) return `device ${scope.device}`;
  if (scope?.group !== undefined) return `group ${scope.group}`;
  return 'all devices';
}

/** What raises the rule's alert, and what clears it where that is not simply the reverse. */
export function conditionText(rule: AlertRule): string {
  switch (rule.kind) {
    case 'threshold':
      return thresholdText(rule);
    case 'rate':
      return rateText(rule);
    case 'nodata':
      return noDataText(rule);
    case 'offline':
      return `offline${held(rule.forMs)}`;
  }
}

/** ` for 5 s`, or nothing for a condition that acts at once. */
function held(ms: number | undefined): string {
  return ms ? ` for ${formatSpan(ms)}` : '';
}

function thresholdText(rule: ThresholdRule): string {
  const { metric, forMs, clearForMs } = rule;
  if (rule.op === 'outside') {
    const { low, high } = rule;
    const clearLow = rule.clearLow ?? low;
    const clearHigh = rule.clearHigh ?? high;
    const clears =
      clearLow !== low || clearHigh !== high || clearForMs
        ? `, clears inside ${clearLow}…${clearHigh}${held(clearForMs)}`
        : '';
    return `${metric} outside ${low}…${high}${held(forMs)}${clears}`;
  }
  const back = rule.op === 'above' ? 'below' : 'above';
  const clear = rule.clear ?? rule.value;
  const clears =
    clear !== rule.value || clearForMs ? `, clears ${back} ${clear}${held(clearForMs)}` : '';
  return `${metric} ${rule.op} ${rule.value}${held(forMs)}${clears}`;
}

const RATE_VERBS: Record<RateRule['direction'], string> = {
  up: 'rises',
  down: 'falls',
  either: 'changes',
};

function rateText(rule: RateRule): string {
  const per = rule.per === 'second' ? '/s' : '';
  const clear = rule.clear ?? rule.maxDelta;
  const clears =
    clear !== rule.maxDelta || rule.clearForMs
      ? `, clears within ${clear}${per}${held(rule.clearForMs)}`
      : '';
  return (
    `${rule.metric} ${RATE_VERBS[rule.direction]} more than ${rule.maxDelta}${per} ` +
    `over ${formatSpan(rule.windowMs)}${held(rule.forMs)}${clears}`
  );
}

function noDataText(rule: NoDataRule): string {
  const what = rule.metric === undefined ? 'no data' : `no ${rule.metric} data`;
  const { silenceMs, cadenceMultiple } = rule;
  if (cadenceMultiple === undefined) return `${what} for ${formatSpan(silenceMs ?? NaN)}`;
  const pace = `${cadenceMultiple}× its interval`;
  // The schema's default: 2 h, or silenceMs when longer (decision 0066).
  const unknown = rule.unknownPaceMs ?? Math.max(DEFAULT_UNKNOWN_PACE_MS, silenceMs ?? 0);
  const span =
    silenceMs === undefined ? pace : `${formatSpan(silenceMs)} or ${pace}, whichever is longer`;
  return `${what} for ${span} (${formatSpan(unknown)} while its interval is unknown)`;
}
