import {
  Header,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  NotFoundException,
  Param,
  Patch,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  CreateScreenRequest,
  CreateScreenRequestSchema,
  PairingClaimRequest,
  PairingClaimRequestSchema,
  PairingClaimResponse,
  PairingStartResponse,
  SCREEN_LIMITS,
  ScreenInfo,
  ScreenListResponse,
  ScreenSelf,
  UpdateScreenRequest,
  UpdateScreenRequestSchema,
} from '@pulse/protocol';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Public, Roles, ScopeFiltered } from '../auth/roles.decorator';
import { ClientAddress } from '../common/client-address';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ScreensService } from './screens.service';

/**
 * `/api/screens`: pairing for unpaired walls (anonymous, bounded), the screen's own board
 * (`me`, with its display token) and the admin's list, pairing, edits and revocation. Thin:
 * ScreensService holds the rules; this maps outcomes to status codes.
 */
@Controller('screens')
export class ScreensController {
  constructor(
    private readonly screens: ScreensService,
    private readonly addresses: ClientAddress,
  ) {}

  /**
   * 201 with a code to show; 429 with Retry-After when refused (rate or pending bound).
   * `no-store`: the pairing id claims the display token once the code is entered.
   */
  @Public()
  @Post('pairing')
  @Header('Cache-Control', 'no-store')
  async startPairing(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PairingStartResponse> {
    const outcome = await this.screens.startPairing(this.addresses.of(req));
    if (outcome.ok) return outcome.response;
    res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
    throw new HttpException({ error: 'too many pairing codes' }, HttpStatus.TOO_MANY_REQUESTS);
  }

  /**
   * 200 pending or paired (the token, once: `no-store`, no cache keeps it); 404 when unknown or
   * expired (ask for a new code).
   */
  @Public()
  @Post('pairing/claim')
  @Header('Cache-Control', 'no-store')
  @HttpCode(200)
  async claim(
    @Body(new ZodValidationPipe(PairingClaimRequestSchema)) body: PairingClaimRequest,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PairingClaimResponse> {
    const outcome = await this.screens.claim(body.pairingId, this.addresses.of(req));
    if (outcome.ok) return outcome.response;
    if (outcome.reason === 'unknown')
      throw new NotFoundException({ error: 'unknown or expired pairing: ask for a new code' });
    res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
    throw new HttpException({ error: 'polling too fast' }, HttpStatus.TOO_MANY_REQUESTS);
  }

  /** The calling screen's name, board and scope; 404 for anything but a display token. */
  @Roles('viewer')
  @ScopeFiltered()
  @Get('me')
  me(@CurrentPrincipal() principal: Principal): ScreenSelf {
    const me = this.screens.me(principal);
    if (!me) throw new NotFoundException('not a wall screen: present its display token');
    return me;
  }

  @Roles('admin')
  @Get()
  list(): ScreenListResponse {
    return { screens: this.screens.list() };
  }

  /** 201; 404 when no wall shows the code (expired?); 409 at the screen bound. */
  @Roles('admin')
  @Post()
  create(
    @Body(new ZodValidationPipe(CreateScreenRequestSchema)) body: CreateScreenRequest,
    @CurrentPrincipal() principal: Principal,
  ): ScreenInfo {
    const by = principal.kind === 'user' ? principal.username : principal.kind;
    const outcome = this.screens.pair(body, by);
    if (outcome === 'no_code')
      throw new NotFoundException(`no wall shows the code ${body.code} (expired?)`);
    if (outcome === 'full')
      throw new ConflictException(`at most ${SCREEN_LIMITS.maxScreens} screens: revoke one first`);
    return outcome;
  }

  /** Name, board or scope; the screen reconnects at once with them. */
  @Roles('admin')
  @Patch(':id')
  update(
    @Param('id') id: string,
    @Body(new ZodValidationPipe(UpdateScreenRequestSchema)) body: UpdateScreenRequest,
  ): ScreenInfo {
    const screen = this.screens.update(id, body);
    if (!screen) throw new NotFoundException(`no screen "${id.slice(0, 64)}"`);
    return screen;
  }

  /** 204: the display token stops working and the screen's sockets are cut. */
  @Roles('admin')
  @Delete(':id')
  @HttpCode(204)
  revoke(@Param('id') id: string): void {
    if (!this.screens.revoke(id)) throw new NotFoundException(`no screen "${id.slice(0, 64)}"`);
  }
}
