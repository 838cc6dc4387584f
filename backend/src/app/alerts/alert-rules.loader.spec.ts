import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertEngine } from './alert-engine';
import {
  AlertRulesError,
  DEFAULT_RULES,
  loadAlertRulesFile,
  parseAlertRule,
  parseAlertRules,
  saveAlertRulesFile,
} from './alert-rules.loader';

/** The `path: message` lines of a rules text that must fail. */
function issues(text: string, format: 'json' | 'yaml' = 'yaml'): string[] {
  try {
    parseAlertRules(text, format);
  } catch (error) {
    if (error instanceof AlertRulesError) return error.issues;
    throw error;
  }
  throw new Error('expected the rules to be refused');
}

const YAML_RULES = `
rules:
  - id: hot
    kind: threshold
    severity: major
    scope: { group: hall-a }
    name: Too hot
    metric: temperature
    op: above
    value: 30
    clear: 28
    forMs: 10000
  - id: silent
    kind: nodata
    cadenceMultiple: 3
    severity: minor
  - id: gone
    kind: offline
    severity: critical
`;

describe('alert rules loader', () => {
  it('reads YAML and fills in the defaults', () => {
    expect(parseAlertRules(YAML_RULES, 'yaml')).toEqual([
      {
        id: 'hot',
        name: 'Too hot',
        kind: 'threshold',
        metric: 'temperature',
        op: 'above',
        value: 30,
        clear: 28,
        forMs: 10_000,
        clearForMs: 0,
        severity: 'major',
        scope: { group: 'hall-a' },
        enabled: true,
      },
      {
        id: 'silent',
        kind: 'nodata',
        cadenceMultiple: 3,
        severity: 'minor',
        scope: { all: true },
        enabled: true,
      },
      {
        id: 'gone',
        kind: 'offline',
        forMs: 0,
        severity: 'critical',
        scope: { all: true },
        enabled: true,
      },
    ]);
  });

  it('reads JSON files and YAML files by extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-rules-'));
    try {
      const rules = {
        rules: [{ id: 'gone', kind: 'offline', severity: 'critical' }],
      };
      writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
      writeFileSync(join(dir, 'rules.yml'), YAML_RULES);
      expect(loadAlertRulesFile(join(dir, 'rules.json')).map((r) => r.id)).toEqual(['gone']);
      expect(loadAlertRulesFile(join(dir, 'rules.yml')).map((r) => r.id)).toEqual([
        'hot',
        'silent',
        'gone',
      ]);
      for (const name of ['saved.json', 'saved.yaml']) {
        saveAlertRulesFile(join(dir, name), DEFAULT_RULES);
        expect(loadAlertRulesFile(join(dir, name))).toEqual(DEFAULT_RULES);
      }
      expect(() => loadAlertRulesFile(join(dir, 'missing.yaml'))).toThrow(
        /missing\.yaml:\n {2}\(root\): cannot read the file \(ENOENT\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each<[string, string, string[]]>([
    [
      'a string level',
      '{"rules":[{"id":"a","kind":"threshold","metric":"m","op":"above","value":"30","severity":"major"}]}',
      ['rules.0.value: Invalid input: expected number, received string'],
    ],
    [
      'an unknown kind',
      '{"rules":[{"id":"a","kind":"thresh","severity":"major"}]}',
      [
        "rules.0.kind: Invalid discriminator value. Expected 'threshold' | 'rate' | 'nodata' | 'offline'",
      ],
    ],
    [
      'a typo in a key, and the level it should have been',
      '{"rules":[{"id":"a","kind":"threshold","metric":"m","op":"above","treshold":1,"severity":"major"}]}',
      ['rules.0: Unrecognized key: "treshold"', 'rules.0.value: required with op "above"'],
    ],
    [
      'a clear level on the wrong side',
      '{"rules":[{"id":"a","kind":"threshold","metric":"m","op":"above","value":30,"clear":31,"severity":"major"}]}',
      ['rules.0.clear: must be <= value (30) with op "above"'],
    ],
    [
      'an inverted band',
      '{"rules":[{"id":"a","kind":"threshold","metric":"m","op":"outside","low":5,"high":1,"severity":"major"}]}',
      ['rules.0.high: must be > low (5)', 'rules.0.clearHigh: must be > clearLow (5)'],
    ],
    [
      'value used with outside',
      '{"rules":[{"id":"a","kind":"threshold","metric":"m","op":"outside","value":5,"low":1,"high":9,"severity":"major"}]}',
      ['rules.0.value: not used with op "outside": use low/high and clearLow/clearHigh'],
    ],
    [
      'a threshold without a metric',
      '{"rules":[{"id":"a","kind":"threshold","op":"below","value":1,"severity":"major"}]}',
      ['rules.0.metric: Invalid input: expected string, received undefined'],
    ],
    [
      'no-data without a duration',
      '{"rules":[{"id":"a","kind":"nodata","severity":"minor"}]}',
      ['rules.0.silenceMs: set silenceMs, cadenceMultiple or both'],
    ],
    [
      'a bad id, severity and scope',
      '{"rules":[{"id":"a b","kind":"offline","severity":"bad","scope":{"device":"x","all":true}}]}',
      [
        'rules.0.id: must be 1 to 64 characters of A-Z a-z 0-9 _ - . (not . or .. alone)',
        'rules.0.severity: Invalid option: expected one of "critical"|"major"|"minor"|"warning"|"info"',
        'rules.0.scope: set exactly one of device, group or all: true',
      ],
    ],
    [
      'a negative duration',
      '{"rules":[{"id":"a","kind":"offline","forMs":-1,"severity":"minor"}]}',
      ['rules.0.forMs: Too small: expected number to be >=0'],
    ],
    [
      'duplicate ids',
      '{"rules":[{"id":"a","kind":"offline","severity":"minor"},{"id":"a","kind":"offline","severity":"major"}]}',
      ['rules.1.id: duplicate rule id "a"'],
    ],
    [
      'rules as an object',
      '{"rules":{}}',
      ['rules: Invalid input: expected array, received object'],
    ],
    ['bad JSON', '{"rules": [', ['(root): Unexpected end of JSON input']],
  ])('refuses %s with readable path: message lines', (_name, text, expected) => {
    expect(issues(text, 'json')).toEqual(expected);
  });

  it('names the line of a YAML syntax error, and refuses an empty file', () => {
    expect(issues('rules:\n  - id: a\n    kind: [\n')).toEqual([
      'line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(issues('')).toEqual(['(root): empty document, expected { rules: [...] }']);
  });

  it('validates one rule from an HTTP body the same way', () => {
    expect(parseAlertRule({ id: 'x', kind: 'offline', severity: 'info' })).toMatchObject({
      id: 'x',
      forMs: 0,
    });
    expect(() =>
      parseAlertRule({
        id: 'x',
        kind: 'rate',
        metric: 'm',
        windowMs: 0,
        maxDelta: 1,
        severity: 'info',
      }),
    ).toThrow(/request body:\n {2}windowMs: Too small/);
  });

  it('ships valid defaults for the simulated fleet', () => {
    expect(DEFAULT_RULES.map((r) => `${r.id}:${r.kind}:${r.severity}`)).toEqual([
      'temperature-high:threshold:major',
      'co2-high:threshold:warning',
      'vibration-high:threshold:major',
      'vibration-spike:rate:minor',
      'no-data:nodata:minor',
      'device-offline:offline:critical',
    ]);
    const sut = new AlertEngine(() => 1_800_000_000_000);
    expect(() => sut.setRules(DEFAULT_RULES)).not.toThrow();
    expect(sut.stats().enabledRules).toBe(DEFAULT_RULES.length);
  });
});
