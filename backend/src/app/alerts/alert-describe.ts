import { AlertEvent, formatSpan } from '@pulse/protocol';
import { CompiledRule, KeyState } from './alert-state';
import { noDataThreshold } from './nodata.evaluator';

/**
 * The words and figures of an alert: owns the kind, the message, the reported value and the
 * threshold of each rule kind, written into the event on a raise. Cold path (lifecycle changes
 * only). Must not decide anything: whether and when an alert raises is the evaluators' and the
 * lifecycle's. The protocol's `kindFromWording` reads these words back for events of builds
 * before `kind` (stored rows, older peers, a screen on an older gateway): keep them in step
 * (`stored-alert-event.spec` pins every kind).
 */
export function describeAlert(c: CompiledRule, state: KeyState, event: AlertEvent): void {
  const rule = c.rule;
  const v = state.lastValue;
  event.kind = rule.kind;
  event.severity = rule.severity;
  event.ruleName = c.name;
  event.value = v;
  const forText = 'forMs' in rule && rule.forMs > 0 ? ` for ${formatSpan(rule.forMs)}` : '';
  switch (rule.kind) {
    case 'threshold': {
      if (rule.op === 'outside') {
        const low = rule.low as number;
        const high = rule.high as number;
        event.threshold = v !== null && v <= (low + high) / 2 ? low : high;
        event.message = `${c.name}: ${rule.metric} ${fmt(v)} outside ${low}…${high}${forText}`;
      } else {
        event.threshold = rule.value as number;
        event.message = `${c.name}: ${rule.metric} ${fmt(v)} ${rule.op} ${rule.value}${forText}`;
      }
      break;
    }
    case 'rate': {
      const unit = rule.per === 'second' ? '/s' : ` in ${formatSpan(rule.windowMs)}`;
      event.threshold = rule.maxDelta;
      event.message = `${c.name}: ${rule.metric} changed by ${fmt(v)}${unit} (limit ${rule.maxDelta}${unit})${forText}`;
      break;
    }
    case 'nodata': {
      event.threshold = noDataThreshold(c, state);
      event.message = `${c.name}: no ${rule.metric ?? 'data'} for ${formatSpan(v ?? 0)}`;
      break;
    }
    case 'offline':
      event.threshold = null;
      event.value = null;
      event.message = `${c.name}: device offline${forText}`;
      break;
  }
}

/** Three decimals: what an operator reads, and what a rate is reported as. */
export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function fmt(value: number | null): string {
  if (value === null) return '—';
  return String(round(value));
}
