import { Injectable, inject } from '@angular/core';
import {
  isScreenSelf,
  type PairingClaimResponse,
  type PairingStartResponse,
  type ScreenInfo,
  type ScreenListResponse,
  type ScreenSelf,
} from '@pulse/protocol/core';
import { FETCH } from '../http/alerts-api';
import { AuthRequestError, authRequest } from './auth-api';

/*
 * The `/api/screens/*` calls: a wall's pairing (start, claim) and its own board (`me`, with the
 * display token FETCH adds), and the admin's list, pairing, edits and revocation. It owns URLs
 * and the shape checks of the answers; it must not hold state (ScreenSession and the Screens
 * page do).
 */

export type { ScreenInfo, ScreenSelf } from '@pulse/protocol/core';

/** What an admin enters to pair a wall (or edit one: every field but the code). */
export interface ScreenForm {
  code: string;
  name: string;
  board: string;
  /** Empty: the whole fleet. */
  groups: string[];
}

@Injectable({ providedIn: 'root' })
export class ScreensApi {
  private readonly fetch = inject(FETCH);

  async startPairing(): Promise<PairingStartResponse> {
    const body = (await authRequest(
      this.fetch,
      'POST',
      '/api/screens/pairing',
      {},
    )) as PairingStartResponse | null;
    if (!body || typeof body.code !== 'string' || typeof body.pairingId !== 'string')
      throw new AuthRequestError(0, 'malformed pairing answer');
    return body;
  }

  /** Rejects with status 404 once the pairing is unknown or expired (ask for a new code). */
  async claim(pairingId: string): Promise<PairingClaimResponse> {
    const body = (await authRequest(this.fetch, 'POST', '/api/screens/pairing/claim', {
      pairingId,
    })) as PairingClaimResponse | null;
    if (body?.status === 'paired' && typeof body.token === 'string') return body;
    if (body?.status === 'pending') return body;
    throw new AuthRequestError(0, 'malformed claim answer');
  }

  /** Rejects with status 401 once the display token is revoked. */
  async me(): Promise<ScreenSelf> {
    const body = await authRequest(this.fetch, 'GET', '/api/screens/me');
    if (!isScreenSelf(body)) throw new AuthRequestError(0, 'malformed screen answer');
    return body;
  }

  async list(): Promise<ScreenInfo[]> {
    const body = (await authRequest(this.fetch, 'GET', '/api/screens')) as ScreenListResponse;
    return Array.isArray(body?.screens) ? body.screens : [];
  }

  pair(form: ScreenForm): Promise<unknown> {
    return authRequest(this.fetch, 'POST', '/api/screens', {
      code: form.code.trim(),
      name: form.name.trim(),
      board: form.board.trim(),
      ...(form.groups.length ? { groups: form.groups } : {}),
    });
  }

  update(id: string, form: Omit<ScreenForm, 'code'>): Promise<unknown> {
    return authRequest(this.fetch, 'PATCH', `/api/screens/${encodeURIComponent(id)}`, {
      name: form.name.trim(),
      board: form.board.trim(),
      groups: form.groups.length ? form.groups : null,
    });
  }

  revoke(id: string): Promise<unknown> {
    return authRequest(this.fetch, 'DELETE', `/api/screens/${encodeURIComponent(id)}`);
  }
}
