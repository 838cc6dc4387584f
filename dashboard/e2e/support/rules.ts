/**
 * An alert rules file for a stack under test (`ALERT_RULES_FILE`), in a temp directory the
 * caller removes. Owns that file only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function rulesFile(rules: unknown[]): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-e2e-rules-'));
  const file = join(dir, 'rules.json');
  writeFileSync(file, JSON.stringify({ rules }));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A rule always firing on the first simulated device (a power meter: its voltage is always
 * above −1000), so every run has an alert of `severity`; its message starts with `name`.
 */
export function alwaysFiringRule(id: string, name: string, severity = 'critical') {
  return {
    id,
    name,
    kind: 'threshold',
    metric: 'voltage',
    op: 'above',
    value: -1000,
    clear: -2000,
    forMs: 0,
    severity,
    scope: { device: 'sim-001' },
  };
}

/** A rule that fires at once when `metric` of `device` goes above 50 and clears below 40. */
export function overheatRule(id: string, device: string, metric: string, severity = 'critical') {
  return {
    id,
    name: 'E2E overheat',
    kind: 'threshold',
    metric,
    op: 'above',
    value: 50,
    clear: 40,
    forMs: 0,
    severity,
    scope: { device },
  };
}
