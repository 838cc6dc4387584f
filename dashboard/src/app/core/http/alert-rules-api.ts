import { Injectable, inject } from '@angular/core';
import type { AlertRule, RuleConflictReason } from '@pulse/protocol/core';
import { AuthRequestError, adminRefusal, authExchange, authRequest } from '../auth/auth-api';
import { FETCH } from './alerts-api';

/*
 * An admin's writes to `/api/alert-rules`: create, replace, delete, sent as the other signed-in
 * writes are (authRequest: the session cookie, a JSON body), each with the precondition that
 * keeps it from overwriting someone else's change (decision 0072): `If-Match` with the tag of
 * the rule as it was read, `If-None-Match: *` for a new one. It owns the URLs and wording a
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

/**
 * A 412: someone else changed or deleted the rule since it was read, or created one with its id.
 * Carries the rule as the gateway holds it now and its tag (null for both: it no longer exists).
 */
export class RuleConflictError extends RuleWriteError {
  constructor(
    readonly reason: RuleConflictReason,
    readonly id: string,
    readonly current: AlertRule | null,
    readonly etag: string | null,
    /**
     * `rule_exists`: the gateway found the rule sent (as it parsed it, defaults filled in) to be
     * the stored one, a create sent twice. False when it did not say (an older gateway).
     */
    readonly same = false,
  ) {
    super(412, conflictWords(reason, id));
    this.name = 'RuleConflictError';
  }
}

/**
 * A rule as the gateway stored it (defaults filled in), with the tag its answer gave it (null: a
 * gateway before 0072): the version the next write of it is made over.
 */
export interface SavedRule {
  rule: AlertRule;
  etag: string | null;
}

@Injectable({ providedIn: 'root' })
export class AlertRulesApi {
  private readonly fetch = inject(FETCH);

  /**
   * A new rule, created only if its id is free: `PUT /api/alert-rules/:id` with
   * `If-None-Match: *` (412 if someone has a rule of that id). `rule` is sent as typed (unknown:
   * the gateway checks it), and the rule as stored comes back (defaults filled in). Text without
   * an id the URL can carry goes to `POST /api/alert-rules`, for the gateway's 400 to say why.
   * Refused because a rule of that id exists that the gateway says is this very rule (`same`:
   * the text as it parses it, defaults filled in, has the stored rule's tag): that is this
   * create, sent twice (a double click, a retry of one whose answer was lost), and it is done.
   * Only the gateway can say: it has the schema that fills in what the text left out.
   */
  async create(rule: unknown): Promise<SavedRule> {
    const id = idOf(rule);
    if (id === '' || id === '.' || id === '..') return this.send('POST', '/api/alert-rules', rule);
    try {
      return await this.send('PUT', ruleUrl(id), rule, { 'if-none-match': '*' });
    } catch (error) {
      if (
        error instanceof RuleConflictError &&
        error.reason === 'rule_exists' &&
        error.same &&
        error.current
      )
        return { rule: error.current, etag: error.etag };
      throw error;
    }
  }

  /**
   * `PUT /api/alert-rules/:id`: replace the rule `id` (the body's id must be the same), if it is
   * still the version tagged `etag` (`If-Match`); null: whatever it is now (a gateway that gave
   * no tag).
   */
  replace(id: string, rule: unknown, etag: string | null): Promise<SavedRule> {
    return this.send('PUT', ruleUrl(id), rule, etag === null ? {} : { 'if-match': etag });
  }

  /**
   * `DELETE /api/alert-rules/:id`, if the rule is still the version tagged `etag` (null: any).
   * A rule already gone (deleted elsewhere) is no error; one changed since is a
   * {@link RuleConflictError}.
   */
  async remove(id: string, etag: string | null): Promise<void> {
    try {
      const headers: Record<string, string> = etag === null ? {} : { 'if-match': etag };
      await authRequest(this.fetch, 'DELETE', ruleUrl(id), undefined, { headers });
    } catch (error) {
      if (error instanceof AuthRequestError && error.status === 404) return;
      const refused = refusal(error, id);
      if (refused instanceof RuleConflictError && refused.reason === 'rule_gone') return;
      throw refused;
    }
  }

  private async send(
    method: 'POST' | 'PUT',
    url: string,
    rule: unknown,
    headers: Record<string, string> = {},
  ): Promise<SavedRule> {
    try {
      const answer = await authExchange(this.fetch, method, url, rule, { headers });
      return { rule: answer.body as AlertRule, etag: answer.etag };
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
  if (status === 412) return conflictOf(error.body, id);
  return new RuleWriteError(status, adminRefusal(error, 'change alert rules'));
}

/**
 * A 412's body (RuleConflictResponse) read defensively: one without it (a proxy's) is a change
 * made meanwhile with nothing to show, never a deletion (a delete would count it done, and the
 * editor's next save would only create).
 */
function conflictOf(body: unknown, id: string): RuleConflictError {
  const fields = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const rule = fields['rule'];
  const current =
    rule && typeof rule === 'object' && (rule as { id?: unknown }).id === id
      ? (rule as AlertRule)
      : null;
  const etag = current && typeof fields['etag'] === 'string' ? fields['etag'] : null;
  const error = fields['error'];
  const reason: RuleConflictReason =
    error === 'rule_gone' || error === 'rule_exists' || error === 'rule_changed'
      ? error
      : 'rule_changed';
  return new RuleConflictError(reason, id, current, etag, fields['same'] === true);
}

/** What happened, for the person whose write was refused (the caller says what they can do now). */
function conflictWords(reason: RuleConflictReason, id: string): string {
  switch (reason) {
    case 'rule_changed':
      return `Someone else changed the rule "${id}" after it was read here, so nothing was changed.`;
    case 'rule_gone':
      return `Someone else deleted the rule "${id}" after it was read here, so it was not created again.`;
    case 'rule_exists':
      return `A rule with the id "${id}" exists already (someone may have just created it), so yours was not created.`;
  }
}
