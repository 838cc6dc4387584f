import { Controller, Get, Query } from '@nestjs/common';
import { FleetSummaryPage, FleetSummaryQuery, FleetSummaryQuerySchema } from '@pulse/protocol';
import { groupScope, Principal } from '../auth/principal';
import { CurrentPrincipal, ScopeFiltered } from '../auth/roles.decorator';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { pageOf } from './fleet-query';
import { FleetSummaryService } from './fleet-summary.service';

/**
 * `GET /api/fleet/summary` (viewer): the fleet summary sorted, searched and paged on the server.
 * A group-scoped caller (a wall screen) sees its groups' devices only. Thin: hands off to
 * FleetSummaryService and pageOf.
 */
@ScopeFiltered()
@Controller('fleet')
export class FleetController {
  constructor(private readonly summary: FleetSummaryService) {}

  @Get('summary')
  get(
    @Query(new ZodValidationPipe(FleetSummaryQuerySchema)) query: FleetSummaryQuery,
    @CurrentPrincipal() principal: Principal,
  ): FleetSummaryPage {
    return pageOf(this.summary.snapshot(groupScope(principal)), query);
  }
}
