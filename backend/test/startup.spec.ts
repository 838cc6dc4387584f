import { createServer, Server } from 'node:net';
import { StartupError } from '../src/app/config/config';
import { startTestPulse } from './support/pulse';

// Real: the whole backend booting against ports that are already taken.
describe('startup', () => {
  let blocker: Server;
  let port: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
  });

  it('explains a busy MQTT_PORT instead of crashing with a stack trace', async () => {
    const attempt = startTestPulse({ MQTT_PORT: String(port) });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    await expect(attempt).rejects.toThrow(/MQTT_PORT \d+ on 127\.0\.0\.1 is already in use/);
  });

  it('explains a busy PORT', async () => {
    await expect(startTestPulse({ PORT: String(port) })).rejects.toThrow(
      /^PORT \d+ on 127\.0\.0\.1 is already in use/,
    );
  });

  it('starts and stops cleanly, and close() may be called twice', async () => {
    const pulse = await startTestPulse();
    expect(pulse.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(pulse.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    await Promise.all([pulse.close(), pulse.close()]);
    await expect(fetch(`${pulse.httpUrl}/api/health`)).rejects.toThrow();
  });
});
