import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './config';

// Real files in a temp folder; parseConfig as main.ts calls it, with an explicit environment.
describe('simulator broker credentials', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-sim-credentials-'));
    writeFileSync(join(dir, 'password'), 'pw-from-file\nignored second line\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads --username and the first line of --password-file', () => {
    const result = parseConfig(['--username', 'sim', '--password-file', join(dir, 'password')], {});
    expect(result).toMatchObject({
      ok: true,
      config: { credentials: { username: 'sim', password: 'pw-from-file', ca: null } },
    });
  });

  it('takes MQTT_USERNAME and MQTT_PASSWORD_FILE from the environment; flags win', () => {
    const env = { MQTT_USERNAME: 'from-env', MQTT_PASSWORD_FILE: join(dir, 'password') };
    expect(parseConfig([], env)).toMatchObject({
      config: { credentials: { username: 'from-env', password: 'pw-from-file' } },
    });
    expect(parseConfig(['--username', 'flag'], env)).toMatchObject({
      config: { credentials: { username: 'flag' } },
    });
  });

  it('refuses an unreadable file and a password without a username, naming the flag only', () => {
    const missing = parseConfig(['--username', 'sim', '--password-file', join(dir, 'nope')], {});
    expect(missing).toEqual({
      ok: false,
      error: `--password-file: cannot read ${join(dir, 'nope')} (ENOENT)`,
    });
    const noUser = parseConfig(['--password-file', join(dir, 'password')], {});
    expect(noUser).toEqual({
      ok: false,
      error: '--password-file needs --username (or MQTT_USERNAME)',
    });
  });

  it('has no --password flag: a password on the command line is refused', () => {
    expect(parseConfig(['--password', 'x'], {})).toMatchObject({ ok: false });
  });
});
