import { Injectable, inject } from '@angular/core';
import type { AlertRule } from '@pulse/protocol/core';
import { AuthRequestError, adminRefusal, authRequest } from '../auth/auth-api';
import { FETCH } from './alerts-api';

/*
 * An admin's writes to `/api/alert-rules`: create, replace, delete, sent as the other signed-in
 * writes are (authRequest: the session cookie, a JSON body). It owns the URLs and wording a
 * refusal for the person who asked; it must not validate a rule (the gateway does, with the one
 * schema) nor hold the rules (AlertRulesService does, and is refreshed by the caller).
 */

/** A write the gateway refused, or that never reached it. */
export class RuleWriteError extends Error {
  constructor(
    /** 0 when the gateway was never reached. */
    readonly status: number,
    message: string,
    /** A 400's validation issues as the gateway wrote them, `path: message` each. */
    readonly issues: readonly string[] = [],
  ) {
    super(message);
    this.name = 'RuleWriteError';
  }
}

@Injectable({ providedIn: 'root' })
export class AlertRulesApi {
  private readonly fetch = inject(FETCH);

  /**
   * `POST /api/alert-rules`: a new rule. `rule` is sent as typed (unknown: the gateway checks
   * it), and the rule as stored comes back (defaults filled in).
   */
  create(rule: unknown): Promise<AlertRule> {
    return this.send('POST', '/api/alert-rules', rule);
  }

  /** `PUT /api/alert-rules/:id`: replace the rule `id` (the body's id must be the same). */
  replace(id: string, rule: unknown): Promise<AlertRule> {
    return this.send('PUT', ruleUrl(id), rule);
  }

  /** `DELETE /api/alert-rules/:id`; a rule already gone (deleted elsewhere) is no error. */
  async remove(id: string): Promise<void> {
    try {
      await authRequest(this.fetch, 'DELETE', ruleUrl(id));
    } catch (error) {
      if (error instanceof AuthRequestError && error.status === 404) return;
      throw refusal(error, id);
    }
  }

  private async send(method: 'POST' | 'PUT', url: string, rule: unknown): Promise<AlertRule> {
    try {
      return (await authRequest(this.fetch, method, url, rule)) as AlertRule;
    } catch (error) {
      throw refusal(error, idOf(rule));
    }
  }
}

function ruleUrl(id: string): string {
  return `/api/alert-rules/${encodeURIComponent(id)}`;
}

function idOf(rule: unknown): string {
  const id = rule && typeof rule === 'object' ? (rule as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : '';
}

/** A refusal in words for the rules page (authRequest's own wording is the sign-in form's). */
function refusal(error: unknown, id: string): RuleWriteError {
  if (!(error instanceof AuthRequestError))
    return new RuleWriteError(0, error instanceof Error ? error.message : String(error));
  const { status, serverMessages } = error;
  if (status === 400)
    return new RuleWriteError(400, 'The gateway refused the rule:', serverMessages);
  if (status === 409)
    return new RuleWriteError(
      409,
      `A rule with the id "${id}" exists already: choose another id, or edit that rule.`,
    );
  return new RuleWriteError(status, adminRefusal(error, 'change alert rules'));
}
