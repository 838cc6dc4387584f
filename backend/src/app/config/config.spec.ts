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

  /** The `NAME: message` lines loadConfig refuses `env` with (none: it was accepted). */
  function issuesOf(env: Record<string, string>): string[] {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).issues;
    }
  }

  it('reads CONNECTION_CAP_EXEMPT as exact IP addresses, and refuses anything else, ranges included', () => {
    expect(loadConfig({}).CONNECTION_CAP_EXEMPT).toEqual(['127.0.0.1', '::1']);
    expect(loadConfig({ CONNECTION_CAP_EXEMPT: 'none' }).CONNECTION_CAP_EXEMPT).toEqual([]);
    expect(
      loadConfig({ CONNECTION_CAP_EXEMPT: '10.1.2.3, ::1,::ffff:192.0.2.7' }).CONNECTION_CAP_EXEMPT,
    ).toEqual(['10.1.2.3', '::1', '::ffff:192.0.2.7']);
    expect(issuesOf({ CONNECTION_CAP_EXEMPT: 'abc' })).toEqual([
      'CONNECTION_CAP_EXEMPT: "abc" is not an IP address (exact addresses, comma-separated, or none)',
    ]);
    expect(issuesOf({ CONNECTION_CAP_EXEMPT: '127.0.0.1,10.0.0.0/8,none' })).toEqual([
      'CONNECTION_CAP_EXEMPT: "10.0.0.0/8" is a range: list exact addresses (ranges are not exempted)',
      'CONNECTION_CAP_EXEMPT: "none" is not an IP address (exact addresses, comma-separated, or none)',
    ]);
    expect(issuesOf({ CONNECTION_CAP_EXEMPT: ' , ' })).toEqual([
      'CONNECTION_CAP_EXEMPT: no address given (none for no exemption)',
    ]);
  });

  it('takes an IP address or a host name for HOST, and refuses anything else', () => {
    for (const host of ['0.0.0.0', '::', '::1', 'localhost', 'pulse.example.com', 'pulse_gateway'])
      expect(loadConfig({ HOST: host }).HOST).toBe(host);
    expect(issuesOf({ HOST: 'not a host' })).toEqual([
      'HOST: "not a host" is not an IP address or a host name (e.g. 127.0.0.1, 0.0.0.0, :: or pulse.example.com)',
    ]);
    expect(issuesOf({ HOST: '[::1]' })).toHaveLength(1);
    expect(issuesOf({ HOST: 'http://pulse.example.com' })).toHaveLength(1);
  });

  it('refuses an unknown INGEST_PRESETS name, listed with the rest', () => {
    expect(loadConfig({ INGEST_PRESETS: 'tasmota, zigbee2mqtt' }).INGEST_PRESETS).toBe(
      'tasmota, zigbee2mqtt',
    );
    expect(issuesOf({ INGEST_PRESETS: 'tasmota,foo', PORT: 'abc' })).toEqual([
      expect.stringMatching(/^PORT: /),
      'INGEST_PRESETS: preset "foo": unknown (one of tasmota, zigbee2mqtt, shelly, homeassistant, esphome)',
    ]);
  });

  it('maps LOG_LEVEL to the enabled Nest levels', () => {
    expect(logLevels('warn')).toEqual(['fatal', 'error', 'warn']);
  });
});
