import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import {
  CreateDeviceCredentialResponse,
  DeviceCredentialListResponse,
  isValidId,
  quote,
} from '@pulse/protocol';
import { Roles } from '../auth/roles.decorator';
import { DeviceCredentialsService } from './device-credentials.service';

/**
 * Device credential administration, admin only: `POST|DELETE /api/devices/{id}/credentials`,
 * `GET /api/device-credentials`. Thin: must not hold rules (DeviceCredentialsService does) or
 * touch the store.
 */
@Roles('admin')
@Controller()
export class DeviceCredentialsController {
  constructor(private readonly credentials: DeviceCredentialsService) {}

  @Get('device-credentials')
  list(): DeviceCredentialListResponse {
    return this.credentials.list();
  }

  /**
   * 201 with the secret, the only time it is shown (`no-store`: no cache keeps it). On a device
   * that has credentials it rotates them and closes the device's connections.
   */
  @Post('devices/:id/credentials')
  @Header('Cache-Control', 'no-store')
  create(@Param('id') id: string): CreateDeviceCredentialResponse {
    return this.credentials.create(validId(id));
  }

  /** 204; the device's live MQTT connections are closed at once. 404 without live credentials. */
  @Delete('devices/:id/credentials')
  @HttpCode(204)
  revoke(@Param('id') id: string): void {
    if (!this.credentials.revoke(validId(id)))
      throw new NotFoundException(`device ${quote(id)} has no credentials to revoke`);
  }
}

function validId(id: string): string {
  if (!isValidId(id))
    throw new BadRequestException(
      `device id ${quote(id)} must be 1 to 64 characters of A-Z a-z 0-9 _ - .`,
    );
  return id;
}
