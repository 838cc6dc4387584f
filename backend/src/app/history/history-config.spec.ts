import { ConfigError, loadConfig } from '../config/config';

describe('durable history configuration', () => {
  it('defaults to SQLite with 7 d raw, 90 d of 1 min and 730 d of 1 h rollups', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config).toMatchObject({
      HISTORY_QUEUE_MAX: 500_000,
      HISTORY_FLUSH_MS: 500,
      HISTORY_HOLD_MS: 5000,
      RETENTION_RAW: 7 * 86_400_000,
      RETENTION_1M: 90 * 86_400_000,
      RETENTION_1H: 730 * 86_400_000,
    });
  });

  it('reads retentions as durations with a unit or milliseconds', () => {
    const config = loadConfig({
      RETENTION_RAW: '36h',
      RETENTION_1M: '3600000',
      RETENTION_1H: '1d',
    });
    expect([config.RETENTION_RAW, config.RETENTION_1M, config.RETENTION_1H]).toEqual([
      36 * 3_600_000,
      3_600_000,
      86_400_000,
    ]);
  });

  it('lists every bad history variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://db', RETENTION_RAW: 'a week', RETENTION_1H: '30m' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      expect.stringMatching(/^DATABASE_URL: must be a URL like postgres:/),
      expect.stringMatching(/^RETENTION_RAW: must be a duration/),
      'RETENTION_1H: must be at least 1h',
    ]);
  });
});
