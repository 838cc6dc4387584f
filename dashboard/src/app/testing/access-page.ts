import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { AccessPage } from '../access/access.page';
import { AuthService } from '../core/auth/auth.service';
import { FETCH } from '../core/http/alerts-api';
import { fakeAccessServer } from './fake-access-server';
import { provideFakeLive, renderWithFakeTime } from './testbed';

/*
 * The Access page over a {@link fakeAccessServer}, on fake time (call useFakeClock in the
 * describe), with the steps its specs take: type, choose, click, each followed by enough turns
 * of the promise chain for a write and the reads after it. Test-only.
 */
export async function renderAccessPage(options: Parameters<typeof fakeAccessServer>[0] = {}) {
  const gateway = fakeAccessServer(options);
  provideFakeLive([provideRouter([]), { provide: FETCH, useValue: gateway.server.fetch }]);
  await TestBed.inject(AuthService).ready();
  const router = TestBed.inject(Router);
  jest.spyOn(router, 'navigateByUrl').mockResolvedValue(true);
  const { fixture, el, settle: pass } = renderWithFakeTime(AccessPage);
  const settle = async () => {
    for (let i = 0; i < 6; i++) await pass();
  };
  await settle();
  const find = <T extends HTMLElement = HTMLButtonElement>(
    testId: string,
    within: ParentNode = el,
  ): T | null => within.querySelector<T>(`[data-testid=${testId}]`);
  const need = <T extends HTMLElement = HTMLButtonElement>(testId: string, within?: ParentNode) => {
    const found = find<T>(testId, within);
    if (!found) throw new Error(`no ${testId}`);
    return found;
  };
  const type = async (testId: string, value: string) => {
    const input = need<HTMLInputElement>(testId);
    input.value = value;
    input.dispatchEvent(new Event('input'));
    await settle();
  };
  const choose = async (testId: string, value: string, within?: ParentNode) => {
    const select = need<HTMLSelectElement>(testId, within);
    select.value = value;
    select.dispatchEvent(new Event('change'));
    await settle();
  };
  const click = async (testId: string, within?: ParentNode) => {
    need(testId, within).click();
    await settle();
  };
  const text = (testId: string, within?: ParentNode) =>
    find(testId, within)?.textContent?.replace(/\s+/g, ' ').trim() ?? null;
  const personRow = (username: string) =>
    el.querySelector<HTMLTableRowElement>(`tr[data-username="${username}"]`);
  const tokenRow = (name: string) =>
    el.querySelector<HTMLTableRowElement>(`tr[data-token-name="${name}"]`);
  return {
    ...gateway,
    fixture,
    el,
    router,
    settle,
    find,
    type,
    choose,
    click,
    text,
    personRow,
    tokenRow,
  };
}
