import { TestBed } from '@angular/core/testing';
import type { AlertEvent } from '@pulse/protocol/core';
import { alertEvent } from '../../testing/alerts';
import { AlertsApi, FETCH } from './alerts-api';

/** AlertsApi over a `fetch` that answers every request with `body` (a Response's part it reads). */
function setup(body: unknown) {
  const fetch = async () => ({ ok: true, status: 200, json: async () => body });
  TestBed.configureTestingModule({
    providers: [{ provide: FETCH, useValue: fetch as unknown as typeof globalThis.fetch }],
  });
  return TestBed.inject(AlertsApi);
}

describe('AlertsApi', () => {
  afterEach(() => {
    TestBed.resetTestingModule();
    jest.restoreAllMocks();
  });

  it('leaves a malformed event out of the history; the valid ones around it stay, in order', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const a = alertEvent({ id: 'a' });
    const b = alertEvent({ id: 'b' });
    const sut = setup({
      events: [a, { ...alertEvent({ id: 'bad' }), severity: undefined }, { id: 'x' }, b],
    });
    const page = await sut.history({});
    expect(page.events.map((e: AlertEvent) => e.id)).toEqual(['a', 'b']);
    // The page's length as sent: a short page after refusals is not the end of the history.
    expect(page.sent).toBe(4);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("pages on from the oldest time the gateway sent, a malformed event's too; never later than asked", async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const at = (updatedAt: unknown) => ({ ...alertEvent(), updatedAt, severity: 'dire' });
    const page = (...events: unknown[]) => setup({ events }).history({ to: 900 });
    expect((await page(alertEvent({ updatedAt: 900 }), at(700))).oldest).toBe(700);
    TestBed.resetTestingModule();
    // The last with no time, or one later than `to` (it would page back to newer events): the one before.
    expect((await page(at(800), at(950), { id: 'x' })).oldest).toBe(800);
    TestBed.resetTestingModule();
    expect((await page({ id: 'x' }, at('soon'))).oldest).toBeNull();
  });
});
