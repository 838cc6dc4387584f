import type { DeviceListResponse } from '@pulse/protocol';
import { encodeTelemetry, metaTopic, telemetryTopic } from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';
import { authEnv, E2E_ADMIN_PASSWORD, signIn } from './support/auth';

/**
 * An admin removes a decommissioned device from its page: asked first, then back on the overview
 * without it, while the simulated fleet stays; the device's page open on another screen says it
 * was removed. The device spoke once and is silent since (it would come back as a new device if
 * it spoke again).
 */
const OLD = 'e2e-retired-pump';

describeInBrowser('removing a device in a real browser against the real stack', () => {
  let backend: Backend;
  let session: BrowserSession;
  let page: Page;
  const data = authEnv();
  const tiles = () =>
    page
      .locator('.tile[data-device-id]')
      .evaluateAll((found) => found.map((t) => t.getAttribute('data-device-id') ?? ''));
  const known = async (): Promise<string[]> =>
    (
      (await (await fetch(`${backend.httpUrl}/api/devices`)).json()) as DeviceListResponse
    ).devices.map((d) => d.deviceId);

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { ...data.env, SIMULATOR_DEVICES: '3' },
    );
    session = await startBrowserSession(backend.httpUrl);
    const device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: 'pulse-e2e-retired',
      reconnectPeriod: 0,
    });
    await device.publishAsync(metaTopic(OLD), JSON.stringify({ name: 'Retired pump' }), {
      retain: true,
      qos: 1,
    });
    await device.publishAsync(
      telemetryTopic(OLD),
      encodeTelemetry([{ ts: Date.now(), values: { flow: 3 } }]),
      { qos: 1 },
    );
    await device.endAsync();
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    data.remove();
  });

  it('asks, removes, and lands on the overview without the device', async () => {
    page = await session.open('/');
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
    await page.locator(`.tile[data-device-id="${OLD}"]`).waitFor({ timeout: 15_000 });
    // Someone else watches its page (anonymous viewing: the loopback default). Its clock is
    // Playwright's: time flows as usual, and the test can jump to the page's next read.
    const watcher = await session.open(`/devices/${OLD}`, (p) => p.clock.install());
    await watcher.locator('[data-metric=flow]').waitFor({ timeout: 15_000 });
    await page.goto(`${backend.httpUrl}/devices/${OLD}`);
    await page.getByTestId('remove-device').click();
    // Asked first (the shared question, Keep focused): nothing is gone yet.
    await page.getByTestId('remove-device-confirm').waitFor({ timeout: 5_000 });
    expect(
      await page.getByTestId('remove-device-keep').evaluate((el) => el === document.activeElement),
    ).toBe(true);
    expect(await known()).toContain(OLD);
    await page.getByTestId('remove-device-confirm').click();
    await page.waitForURL((url) => url.pathname === '/', { timeout: 10_000 });
    await waitFor(async () => (await tiles()).some((id) => id.startsWith('sim-')), {
      timeoutMs: 15_000,
      message: 'the simulated fleet on the overview',
    });
    expect(await tiles()).not.toContain(OLD);
    expect(await known()).not.toContain(OLD);
    // The other screen learns it at its page's next read of the device (every 30 s), here
    // without waiting the 30 s out.
    await watcher.clock.fastForward(30_000);
    await watcher.getByTestId('device-removed').waitFor({ timeout: 10_000 });
  });
});
