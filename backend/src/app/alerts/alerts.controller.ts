import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  AckBodySchema,
  AckRequest,
  AckResponse,
  AlertEvent,
  AlertHistoryResponse,
  AlertQuery,
  AlertQuerySchema,
  AlertRule,
  AlertRuleSchema,
  AlertRulesResponse,
} from '@pulse/protocol';
import { CurrentPrincipal, Roles, ScopeFiltered } from '../auth/roles.decorator';
import { groupScope, inScope, Principal, refusal } from '../auth/principal';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { Preconditions, WritePreconditions } from '../common/preconditions';
import { ReadBudget } from '../security/read-budget';
import { AlertsSnapshot, SnapshotEncoding } from '../common/alerts-snapshot';
import { ALERT_ACKS, AlertAcks } from '../common/alert-acks';
import { AlertsService } from './alerts.service';
import { ruleEtag } from './rule-etag';

/**
 * `/api/alerts`: the active list, the event history and acknowledgements. A group-scoped caller
 * (a wall screen) sees only alerts of devices in its groups.
 */
@Controller('alerts')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly registry: DeviceRegistryService,
    private readonly budget: ReadBudget,
    private readonly snapshot: AlertsSnapshot,
    @Inject(ALERT_ACKS) private readonly acks: AlertAcks,
  ) {}

  /**
   * Active alerts, most severe first, newest first, with the active-list version they are at
   * (a screen applies the `alert` events past it, docs/decisions/0054). The list is built and
   * compressed once per version for every caller who sees it whole, and once per version and
   * group scope for the scoped ones: a reconnecting wall of screens asks it at once.
   */
  @ScopeFiltered()
  @Get()
  async active(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // Who asks decides the body: a cache on the way may keep it for this client only, and asks
    // again each time (a 304 when the bytes are the same).
    res.setHeader('Cache-Control', 'private, no-cache');
    const whole = this.snapshot.current(() => this.alerts.activeEverywhere());
    const scope = groupScope(principal);
    const entry =
      scope === null
        ? whole
        : whole.scoped([...scope].sort().join('\n'), (alerts) =>
            this.inScope(principal, alerts as AlertEvent[]),
          );
    // Brotli before gzip whatever the client's order, as 0047's middleware picks (it leaves an
    // encoded body as it is).
    const encoding: SnapshotEncoding = req.acceptsEncodings('br')
      ? 'br'
      : req.acceptsEncodings('gzip')
        ? 'gzip'
        : 'identity';
    const body = await entry.body(encoding);
    res.type('application/json');
    res.vary('Accept-Encoding');
    // The entry's own validator: Express would hash the whole body on every answer.
    res.setHeader('ETag', `"${entry.version}-${entry.tag}-${encoding}"`);
    if (encoding !== 'identity') res.setHeader('Content-Encoding', encoding);
    res.send(body);
  }

  /** Lifecycle events, newest first: `?deviceId&device&ruleId&severity&state&from&to&limit`. */
  @ScopeFiltered()
  @Get('history')
  async history(
    @Query(new ZodValidationPipe(AlertQuerySchema)) query: AlertQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AlertHistoryResponse> {
    await this.budget.spend(req, res, principal, 1);
    return { events: this.alerts.history(query, groupScope(principal)) };
  }

  private inScope<T extends { deviceId: string }>(principal: Principal, events: T[]): T[] {
    const scope = groupScope(principal);
    if (scope === null) return events;
    return events.filter((event) => inScope(scope, this.registry.groupOf(event.deviceId)));
  }

  /**
   * 200 `{ok:true, alert}`; 404 / 409 `{ok:false, error, message}`. Recorded under the signed-in
   * user's name: a `by` in the body is accepted (older clients send it) and ignored. With several
   * gateways the one holding the alert answers, as for a `/live` ack (AlertAcks): any gateway
   * behind the balancer acknowledges any alert its list shows.
   */
  @Roles('operator')
  @ScopeFiltered()
  @Post(':id/ack')
  @HttpCode(200)
  async acknowledge(
    @Param('id') id: string,
    @Body(new ZodValidationPipe(AckBodySchema)) body: AckRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AckResponse> {
    // The guard let only a signed-in operator or admin through.
    const by = principal.kind === 'user' ? principal.username : 'anonymous';
    const result = await this.acks.acknowledge({
      id,
      by,
      note: body.note,
      scope: groupScope(principal),
    });
    if (result.ok) return result;
    if (result.error === 'not_found') throw new NotFoundException(result);
    throw new ConflictException(result);
  }
}

/**
 * `/api/alert-rules`: CRUD, validated with the same schema as the rules file. A group-scoped
 * caller (a wall screen draws threshold lines) reads the fleet-wide rules and those of its
 * groups and their devices. Each rule has an entity tag (rule-etag.ts): sent as `ETag` with one
 * rule, by id in the list, and taken back in `If-Match` / `If-None-Match` by PUT and DELETE,
 * which refuse 412 a write made on a rule that changed meanwhile (docs/decisions/0072).
 */
@Controller('alert-rules')
export class AlertRulesController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly registry: DeviceRegistryService,
  ) {}

  /**
   * The rules (a scoped caller's: see the class), their tags, and for an admin the stored rules
   * the schema refused at boot, when there are any (`refused`: not run, kept as saved).
   */
  @ScopeFiltered()
  @Get()
  list(@CurrentPrincipal() principal: Principal): AlertRulesResponse {
    const scope = groupScope(principal);
    const { rules, etags } = this.alerts.rulesWithTags();
    if (scope === null) {
      const refused = refusal(principal, 'admin') === null ? this.alerts.refusedStoredRules() : [];
      return refused.length > 0 ? { rules, etags, refused } : { rules, etags };
    }
    const shown = rules.filter((rule) => this.visible(rule, scope));
    return { rules: shown, etags: Object.fromEntries(shown.map((r) => [r.id, etags[r.id]])) };
  }

  /**
   * One rule, its tag in `ETag` (a GET with a matching `If-None-Match` is 304: Express compares
   * the header set here). A group-scoped caller reads the rules its list shows, another is 404.
   */
  @ScopeFiltered()
  @Get(':id')
  get(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): AlertRule {
    const rule = this.alerts.rule(id);
    const scope = groupScope(principal);
    if (scope !== null && !this.visible(rule, scope))
      throw new NotFoundException(`no alert rule "${id.slice(0, 64)}"`);
    return tagged(res, rule);
  }

  /** Whether a scoped caller sees `rule`: fleet-wide, or scoped to one of its groups or devices. */
  private visible(rule: AlertRule, scope: readonly string[]): boolean {
    if (rule.scope.group !== undefined) return inScope(scope, rule.scope.group);
    if (rule.scope.device !== undefined)
      return inScope(scope, this.registry.groupOf(rule.scope.device));
    return true;
  }

  /**
   * 201 with the rule (defaults filled in) and its `ETag`; 409 if the id exists. Preconditions
   * are not read: the request's target is the list, which has no tag (PUT with
   * `If-None-Match: *` creates a rule only if its id is free).
   */
  @Roles('admin')
  @Post()
  async create(
    @Body(new ZodValidationPipe(AlertRuleSchema)) rule: AlertRule,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AlertRule> {
    return tagged(res, await this.alerts.createRule(rule));
  }

  /**
   * Replace (or create) the rule; the body's id must be the path's. 200 with the rule and its
   * `ETag`; 412 (RuleConflictResponse) when `If-Match` / `If-None-Match` fails.
   */
  @Roles('admin')
  @Put(':id')
  async replace(
    @Param('id') id: string,
    @Body(new ZodValidationPipe(AlertRuleSchema)) rule: AlertRule,
    @WritePreconditions() when: Preconditions,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AlertRule> {
    return tagged(res, await this.alerts.replaceRule(id, rule, when));
  }

  /**
   * 204; open alerts of the rule are cleared. 404 when there is no such rule, with or without
   * `If-Match`; 412 when `If-Match` / `If-None-Match` fails on the rule there.
   */
  @Roles('admin')
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string, @WritePreconditions() when: Preconditions): Promise<void> {
    return this.alerts.deleteRule(id, when);
  }
}

/** `rule`, its entity tag set as the answer's `ETag`. */
function tagged(res: Response, rule: AlertRule): AlertRule {
  res.setHeader('ETag', ruleEtag(rule));
  return rule;
}
