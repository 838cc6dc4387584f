import {
  getJson,
  Mosquitto,
  mosquittoAvailable,
  PostgresCluster,
  postgresAvailable,
  startMosquitto,
  startPostgres,
  waitFor,
} from '@pulse/test-support';
import { createServer } from 'node:net';
import { postgresProbe } from '../src/app/health/built-in-checks';
import { ReadinessChecks } from '../src/app/health/readiness.service';
import type { ReadyResponse } from '../src/app/http/system.controller';
import { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';

// Real: the whole backend in this process, Debian's mosquitto as the external broker, the pg
// client against a port nobody answers on; plain fetch without credentials.

const ready = (pulse: PulseHandle) => getJson<ReadyResponse>(`${pulse.httpUrl}/api/ready`);

describe('readiness with the embedded broker', () => {
  let pulse: PulseHandle;
  beforeAll(async () => {
    // No anonymous access at all: probes still get an answer, and nothing more.
    pulse = await startTestPulse({ ANONYMOUS_ROLE: 'none' });
  });
  afterAll(() => pulse?.close());

  it('is ready once booted, naming each check and nothing else', async () => {
    expect(await ready(pulse)).toEqual({
      status: 200,
      body: { status: 'ready', checks: { broker: 'ok', sqlite: 'ok' } },
    });
    expect((await fetch(`${pulse.httpUrl}/api/stats`)).status).toBe(401);
  });

  it('takes a check another feature registers, and is not ready while it fails', async () => {
    let reachable = false;
    pulse.app.get(ReadinessChecks).register('redis', () => {
      if (!reachable) throw new Error('connect ECONNREFUSED redis://:a-secret@127.0.0.1:6379');
    });
    expect(await ready(pulse)).toEqual({
      status: 503,
      body: {
        status: 'not_ready',
        checks: { broker: 'ok', sqlite: 'ok', redis: 'failed' },
        statusCode: 503,
        error: 'Service Unavailable',
        // The failed checks' names only: reasons (a URL with its password) go to the log.
        message: 'not ready: redis failed',
      },
    });
    // Liveness is another question: the process is up.
    expect((await fetch(`${pulse.httpUrl}/api/health`)).status).toBe(200);
    reachable = true;
    expect((await ready(pulse)).status).toBe(200);
  });
});

(mosquittoAvailable() ? describe : describe.skip)('readiness with an external broker', () => {
  let mosquitto: Mosquitto;
  let pulse: PulseHandle;
  beforeAll(async () => {
    mosquitto = await startMosquitto();
    pulse = await startTestPulse({ MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: 'pulse-readiness' });
  });
  afterAll(async () => {
    await pulse?.close();
    await mosquitto?.stop();
  });

  it('is not ready while Mosquitto is down, and ready again once it is back', async () => {
    expect((await ready(pulse)).body.checks.broker).toBe('ok');
    await mosquitto.stop();
    const down = await waitFor(
      async () => {
        const response = await ready(pulse);
        return response.status === 503 ? response : undefined;
      },
      { timeoutMs: 15_000, message: '/api/ready to answer 503' },
    );
    expect(down.body).toEqual({
      status: 'not_ready',
      checks: { broker: 'failed', sqlite: 'ok' },
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'not ready: broker failed',
    });
    expect((await fetch(`${pulse.httpUrl}/api/health`)).status).toBe(200);
    mosquitto = await startMosquitto(mosquitto.port);
    await waitFor(async () => (await ready(pulse)).status === 200, {
      timeoutMs: 20_000,
      message: '/api/ready to answer 200 after the broker is back',
    });
  });
});

(postgresAvailable() ? describe : describe.skip)('readiness with PostgreSQL', () => {
  it('is ready while PostgreSQL answers, and not ready once it is gone', async () => {
    const cluster: PostgresCluster = await startPostgres();
    let pulse: PulseHandle | undefined;
    try {
      pulse = await startTestPulse({ DATABASE_URL: cluster.createDatabase('readiness') });
      expect(await ready(pulse)).toEqual({
        status: 200,
        body: { status: 'ready', checks: { broker: 'ok', sqlite: 'ok', postgres: 'ok' } },
      });
      await cluster.stop();
      expect(await ready(pulse)).toEqual({
        status: 503,
        body: {
          status: 'not_ready',
          checks: { broker: 'ok', sqlite: 'ok', postgres: 'failed' },
          statusCode: 503,
          error: 'Service Unavailable',
          // The failed checks' names only: reasons (a URL with its password) go to the log.
          message: 'not ready: postgres failed',
        },
      });
    } finally {
      await pulse?.close();
      await cluster.stop();
    }
  });

  it('fails within its timeout when nothing answers', async () => {
    // A port that accepts and never speaks: the slowest way for a database to be unreachable.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const probe = postgresProbe(`postgres://pulse:pw@127.0.0.1:${port}/pulse`);
    const started = Date.now();
    try {
      await expect(probe.query('SELECT 1')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await probe.end().catch(() => undefined);
      silent.close();
    }
  });
});
