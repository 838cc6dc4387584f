import { getJson } from '@pulse/test-support';
import { captureLogs } from './support/logs';
import { login, startTestPulse, TEST_ADMIN_PASSWORD, tokenFor } from './support/pulse';

// Real: the whole backend in this process with its real logger writing to this process's
// stdout (tapped), argon2 logins, jose tokens and plain fetch.

const GATEWAY = 'gw-log-spec';

/** Every line written, each parsed as the JSON object it must be. */
function entries(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

describe('structured logs', () => {
  it('writes JSON lines that all name the gateway, log requests at debug and never a secret', async () => {
    const secrets: string[] = [TEST_ADMIN_PASSWORD];
    let metrics = '';
    const text = await captureLogs(async () => {
      const pulse = await startTestPulse({
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        GATEWAY_ID: GATEWAY,
      });
      try {
        const url = pulse.httpUrl;
        await login(url, 'admin', 'wrong-password-in-a-login').catch(() => undefined);
        secrets.push('wrong-password-in-a-login');
        const cookie = await login(url, 'admin', TEST_ADMIN_PASSWORD);
        secrets.push(cookie.split('=')[1]);
        const { token } = await tokenFor(url, 'admin', TEST_ADMIN_PASSWORD);
        secrets.push(token);
        await getJson(`${url}/api/devices`, { authorization: `Bearer ${token}` });
        await getJson(`${url}/api/devices`, { cookie });
        await getJson(`${url}/api/devices?token=query-token-1&via=mqtt://u:url-pass-2@broker`);
        secrets.push('query-token-1', 'url-pass-2');
        metrics = await (await fetch(`${url}/api/metrics`)).text();
      } finally {
        await pulse.close();
      }
    });
    const lines = entries(text);
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.filter((line) => line['gateway'] !== GATEWAY)).toEqual([]);
    // The same identity labels the gateway's metrics.
    expect(metrics).toContain(`pulse_readings_accepted_total{gateway="${GATEWAY}"}`);
    // At debug, each request is a line; its credentials are not.
    const requests = lines.filter((line) =>
      String((line['req'] as { url?: string } | undefined)?.url).startsWith('/api/devices'),
    );
    expect(requests).toHaveLength(3);
    expect(requests[0]).toMatchObject({
      level: 'debug',
      req: { headers: { authorization: '[redacted]' } },
      res: { statusCode: 200 },
    });
    expect(requests[1]).toMatchObject({ req: { headers: { cookie: '[redacted]' } } });
    expect(text).toContain('login_failed'); // the refused login was logged…
    for (const secret of secrets) expect(text).not.toContain(secret); // …without a secret
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  it('logs no request below debug, and keeps the refusals', async () => {
    const text = await captureLogs(async () => {
      const pulse = await startTestPulse({ LOG_LEVEL: 'log', LOG_FORMAT: 'json' });
      try {
        await getJson(`${pulse.httpUrl}/api/devices`);
        await login(pulse.httpUrl, 'admin', 'not-the-password').catch(() => undefined);
      } finally {
        await pulse.close();
      }
    });
    const lines = entries(text);
    expect(lines.filter((line) => 'req' in line)).toEqual([]);
    expect(lines.some((line) => String(line['msg']).includes('login_failed'))).toBe(true);
    // Nest's per-route boot lines stay hidden below debug.
    expect(lines.filter((line) => line['context'] === 'RouterExplorer')).toEqual([]);
  });
});
