import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import type {
  BridgeCredentialListResponse,
  CreateBridgeCredentialRequest,
  CreateBridgeCredentialResponse,
} from '@pulse/protocol';
import { BridgeNameSchema, CreateBridgeCredentialRequestSchema, quote } from '@pulse/protocol';
import { Roles } from '../auth/roles.decorator';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { BridgeCredentialsService } from './bridge-credentials.service';

/**
 * Bridge credential administration, admin only, beside the device credentials:
 * `GET|POST /api/bridge-credentials`, `DELETE /api/bridge-credentials/{name}`. Thin: must not
 * hold rules (BridgeCredentialsService does) or touch the store.
 */
@Roles('admin')
@Controller('bridge-credentials')
export class BridgeCredentialsController {
  constructor(private readonly bridges: BridgeCredentialsService) {}

  @Get()
  list(): BridgeCredentialListResponse {
    return this.bridges.list();
  }

  /**
   * 201 with the secret, the only time it is shown (`no-store`: no cache keeps it). On a name
   * that has credentials it rotates them and closes the bridge's connections.
   */
  @Post()
  @Header('Cache-Control', 'no-store')
  create(
    @Body(new ZodValidationPipe(CreateBridgeCredentialRequestSchema))
    body: CreateBridgeCredentialRequest,
  ): CreateBridgeCredentialResponse {
    return this.bridges.create(body.name);
  }

  /** 204; the bridge's live MQTT connections are closed at once. 404 for an unknown name. */
  @Delete(':name')
  @HttpCode(204)
  revoke(@Param('name', new ZodValidationPipe(BridgeNameSchema)) name: string): void {
    if (!this.bridges.revoke(name))
      throw new NotFoundException(`no bridge ${quote(name)} has credentials`);
  }
}
