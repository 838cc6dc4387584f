import { ConfigError, loadConfig, logLevels } from './config';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const sut = loadConfig({});
    expect(sut).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      MQTT_PORT: 1883,
      MQTT_CLIENT_ID: 'pulse-gateway',
      SIMULATOR: 'on',
      SIMULATOR_DEVICES: 12,
      SIMULATOR_RATE: 1,
      FLUSH_MS: 100,
      HISTORY_WINDOW_MS: 3_600_000,
      HISTORY_MAX_POINTS: 7200,
      MAX_DEVICES: 10_000,
      LOG_LEVEL: 'log',
    });
    expect(sut.MQTT_URL).toBeUndefined();
    expect(sut.DASHBOARD_DIR).toMatch(/dashboard[\\/]browser$/);
  });

  it('coerces numbers and accepts port 0 and an external broker URL', () => {
    const sut = loadConfig({
      PORT: '0',
      MQTT_PORT: '0',
      MQTT_URL: 'mqtt://broker:1883',
      SIMULATOR: 'off',
      FLUSH_MS: '20',
    });
    expect(sut).toMatchObject({
      PORT: 0,
      MQTT_PORT: 0,
      MQTT_URL: 'mqtt://broker:1883',
      SIMULATOR: 'off',
      FLUSH_MS: 20,
    });
  });

  it('treats empty strings as unset', () => {
    const sut = loadConfig({ PORT: '', MQTT_URL: '' });
    expect(sut.PORT).toBe(3000);
    expect(sut.MQTT_URL).toBeUndefined();
  });

  it('lists every bad variable as NAME: message', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'abc',
        FLUSH_MS: '-1',
        SIMULATOR: 'maybe',
        MQTT_URL: 'http://x',
        MQTT_CLIENT_ID: 'a/b',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((line) => line.split(':')[0]).sort()).toEqual(
      ['FLUSH_MS', 'MQTT_CLIENT_ID', 'MQTT_URL', 'PORT', 'SIMULATOR'].sort(),
    );
    expect((error as Error).message).toContain('  PORT: ');
  });

  it('reads ALLOWED_ORIGINS as exact origins and lists every bad entry', () => {
    expect(loadConfig({}).ALLOWED_ORIGINS).toBeUndefined();
    expect(
      loadConfig({ ALLOWED_ORIGINS: 'https://pulse.example.com, http://localhost:4200,' })
        .ALLOWED_ORIGINS,
    ).toEqual(['https://pulse.example.com', 'http://localhost:4200']);
    let error: unknown;
    try {
      loadConfig({
        ALLOWED_ORIGINS: 'https://ok.example,pulse.example.com,https://x.example/app,*',
      });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).issues).toEqual([
      expect.stringMatching(/^ALLOWED_ORIGINS: "pulse.example.com" is not an origin/),
      expect.stringMatching(
        /^ALLOWED_ORIGINS: "https:\/\/x.example\/app" is not an origin.*\(https:\/\/x.example\)$/,
      ),
      expect.stringMatching(/^ALLOWED_ORIGINS: "\*" is not an origin/),
    ]);
  });

  it('reads TRUST_PROXY as addresses, ranges and proxy-addr names, and refuses anything else', () => {
    expect(loadConfig({}).TRUST_PROXY).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: 'none' }).TRUST_PROXY).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback,::1' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      'loopback',
      '::1',
    ]);
    expect(() => loadConfig({ TRUST_PROXY: 'nginx' })).toThrow(
      /TRUST_PROXY: not an address, a range or loopback\/linklocal\/uniquelocal/,
    );
  });

  it('maps LOG_LEVEL to the enabled Nest levels', () => {
    expect(logLevels('warn')).toEqual(['fatal', 'error', 'warn']);
  });
});
