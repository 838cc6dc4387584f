import { Logger } from '@nestjs/common';
import { Writable } from 'node:stream';
import { logFormatOf, pulseLoggerFor } from './pulse.logger';

/** A terminal or a pipe that keeps what it is given. */
function output(isTTY = false): Writable & { isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(out, { isTTY, text: () => chunks.join('') });
}

const base = { PORT: 3000, GATEWAY_ID: 'gw-unit' } as const;

describe('PulseLogger', () => {
  it("hides Nest's per-route boot lines at level log but keeps Pulse's own", () => {
    const out = output();
    const sut = pulseLoggerFor({ ...base, LOG_LEVEL: 'log', LOG_FORMAT: 'json' }, out);
    sut.log('Mapped {/api/health, GET} route', 'RouterExplorer');
    sut.log('AppModule dependencies initialized', 'InstanceLoader');
    sut.log('dashboard   http://localhost:3000/', 'Pulse');
    expect(out.text()).not.toContain('Mapped');
    expect(out.text()).not.toContain('dependencies initialized');
    expect(out.text()).toContain('dashboard   http://localhost:3000/');
  });

  it('shows everything at debug', () => {
    const out = output();
    const sut = pulseLoggerFor({ ...base, LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }, out);
    sut.log('Mapped {/api/health, GET} route', 'RouterExplorer');
    expect(out.text()).toContain('Mapped');
  });

  it('writes one JSON object per line with level, context, message and the gateway', () => {
    const out = output();
    const sut = pulseLoggerFor({ ...base, LOG_LEVEL: 'log', LOG_FORMAT: 'json' }, out);
    sut.warn('connection to mqtt://broker:1883 lost', 'Mqtt');
    sut.debug('not shown at level log', 'Mqtt');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'warn',
      context: 'Mqtt',
      msg: 'connection to mqtt://broker:1883 lost',
      gateway: 'gw-unit',
    });
  });

  it('keeps secrets quoted in messages out of the line', () => {
    const out = output();
    const sut = pulseLoggerFor({ ...base, LOG_LEVEL: 'log', LOG_FORMAT: 'json' }, out);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLWJ5dGVz';
    sut.error('cannot reach postgres://pulse:db-pass-1@db:5432/pulse', 'History');
    sut.warn('refused redis://:redis-pass-2@redis:6379', 'Redis');
    sut.warn(`header was Bearer opaque-token-3 and cookie pulse_session=${jwt}`, 'Auth');
    sut.log('env MQTT_PASSWORD=env-pass-4 PULSE_ADMIN_PASSWORD_FILE=/run/secrets/x', 'Boot');
    sut.log({ msg: 'a login', password: 'field-pass-5', user: { token: 'field-token-6' } }, 'Auth');
    sut.log('GET /api/devices?token=query-token-7&x=1', 'Http');
    const text = out.text();
    for (const secret of ['db-pass-1', 'redis-pass-2', 'opaque-token-3', 'env-pass-4'])
      expect(text).not.toContain(secret);
    for (const secret of ['field-pass-5', 'field-token-6', 'query-token-7', jwt])
      expect(text).not.toContain(secret);
    // What is not secret stays readable.
    expect(text).toContain('postgres://pulse:[redacted]@db:5432/pulse');
    expect(text).toContain('PULSE_ADMIN_PASSWORD_FILE=/run/secrets/x');
    expect(text).toContain('?token=[redacted]&x=1');
  });

  it('writes readable lines with LOG_FORMAT=pretty', () => {
    const out = output();
    const sut = pulseLoggerFor({ ...base, LOG_LEVEL: 'log', LOG_FORMAT: 'pretty' }, out);
    sut.warn('connection to mqtt://broker:1883 lost', 'Mqtt');
    sut.error(new Error('boom'), 'Store');
    const [first, second] = out.text().split('\n');
    expect(first).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3}\s+WARN \[Mqtt\] connection to mqtt:\/\/broker:1883 lost$/,
    );
    expect(second).toMatch(/ERROR \[Store\]/);
    expect(out.text()).toContain('Error: boom\n    at ');
  });

  it('defaults to readable lines on a terminal and JSON anywhere else', () => {
    expect(logFormatOf({}, { isTTY: true })).toBe('pretty');
    expect(logFormatOf({}, { isTTY: false })).toBe('json');
    expect(logFormatOf({ LOG_FORMAT: 'json' }, { isTTY: true })).toBe('json');
  });

  it("carries Nest's module loggers (new Logger(context)) once installed", () => {
    const out = output();
    const sut = pulseLoggerFor({ ...base, LOG_LEVEL: 'log', LOG_FORMAT: 'json' }, out);
    Logger.overrideLogger(sut);
    try {
      new Logger('Ingest').warn('rejected 3 readings');
    } finally {
      Logger.overrideLogger(true);
    }
    expect(JSON.parse(out.text())).toMatchObject({ context: 'Ingest', gateway: 'gw-unit' });
  });
});
