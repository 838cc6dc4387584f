import type { IngestStats } from '@pulse/protocol';
import { getJson } from '@pulse/test-support';
import { PulseHandle } from '../src/app/pulse';
import { startTestPulse, userToken } from './support/pulse';

// Real: the gateway over HTTP (Nest, its guard, the read budget's rate-limiter-flexible window),
// an anonymous client and a signed-in viewer, each with its own budget.
describe('history reads over HTTP have a per-client budget', () => {
  let pulse: PulseHandle;
  const BUDGET = 100; // the least it may be: the largest read (100 devices) fits

  beforeAll(async () => {
    pulse = await startTestPulse({ API_READ_BUDGET: String(BUDGET), ANONYMOUS_ROLE: 'viewer' });
  });

  afterAll(async () => {
    await pulse?.close();
  });

  const refused = async (): Promise<number> =>
    (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.security?.refused?.[
      'http_read_rate'
    ] ?? 0;
  const read = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${pulse.httpUrl}/api${path}`, { headers });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as { message?: string },
    };
  };
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `d${i}`).join(',');

  it('refuses a client past its budget with 429 and Retry-After, counts it, and leaves other clients alone', async () => {
    const viewer = { authorization: `Bearer ${await userToken(pulse.httpUrl, 'ana', 'viewer')}` };
    const before = await refused();
    // Anonymous: 97 devices' windows, a device page and an alert history read: 99 of 100.
    expect((await read(`/history?devices=${ids(60)}`)).status).toBe(200);
    expect((await read(`/history?devices=${ids(37)}`)).status).toBe(200);
    expect((await read('/devices/d0/history')).status).toBe(404); // unknown, but read
    expect((await read('/alerts/history')).status).toBe(200);
    // Two more devices do not fit in what is left.
    const over = await read(`/history?devices=${ids(2)}`);
    expect(over.status).toBe(429);
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(10);
    expect(over.body.message).toContain('too many history reads');
    expect((await read('/alerts/history')).status).toBe(429);
    expect(await refused()).toBe(before + 2);
    // A signed-in viewer has a budget of its own; reads that are no history are not counted.
    expect((await read(`/history?devices=${ids(BUDGET)}`, viewer)).status).toBe(200);
    expect((await read('/alerts', viewer)).status).toBe(200);
    expect((await read('/devices', viewer)).status).toBe(200);
    expect((await read('/alerts', {})).status).toBe(200);
    expect((await read('/alerts/history', viewer)).status).toBe(429);
  });

  it('refuses to start with a budget the largest read does not fit in', async () => {
    await expect(startTestPulse({ API_READ_BUDGET: '99' })).rejects.toThrow(/API_READ_BUDGET/);
  });
});
