import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './config';
import { readDeviceSecrets } from './device-credentials-file';

describe('--credentials-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-sim-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('reads id:secret lines (comments and blank lines skipped) and JSON objects alike', () => {
    const lines = readDeviceSecrets(file('lines', '# fleet\nsim-001:abc:def\n\nsim-002: xyz\n'));
    expect(lines).toEqual({
      ok: true,
      secrets: new Map([
        ['sim-001', 'abc:def'],
        ['sim-002', 'xyz'],
      ]),
    });
    const json = readDeviceSecrets(file('json', '{"sim-001": "abc"}'));
    expect(json).toEqual({ ok: true, secrets: new Map([['sim-001', 'abc']]) });
  });

  it('names the bad line or entry, never a secret', () => {
    const bad = readDeviceSecrets(file('bad', 'sim-001:top-secret\nno colon here\nbad id!:s2\n'));
    expect(bad).toEqual({
      ok: false,
      errors: [
        '--credentials-file line 2: expected <device id>:<secret>',
        '--credentials-file line 3: expected <device id>:<secret>',
      ],
    });
    expect(readDeviceSecrets(file('empty', '# nothing\n'))).toMatchObject({ ok: false });
    expect(readDeviceSecrets(join(dir, 'missing'))).toEqual({
      ok: false,
      errors: [`--credentials-file: cannot read ${join(dir, 'missing')} (ENOENT)`],
    });
  });

  it('must cover every device of the fleet, and replaces --username', () => {
    const path = file('two', 'sim-001:a\nsim-002:b\n');
    expect(parseConfig(['--devices', '2', '--credentials-file', path], {})).toMatchObject({
      ok: true,
    });
    expect(parseConfig(['--devices', '3', '--credentials-file', path], {})).toEqual({
      ok: false,
      error:
        '--credentials-file has no secret for sim-003 (ids are sim-001...; see --prefix and --devices)',
    });
    expect(
      parseConfig(['--username', 'u', '--credentials-file', path, '--devices', '2'], {}),
    ).toMatchObject({ ok: false, error: expect.stringContaining('drop --username') });
  });
});
