import { Controller, Get, Post } from '@nestjs/common';
import type { BackupInfo, BackupListResponse } from '@pulse/protocol';
import { Roles } from '../auth/roles.decorator';
import { BackupService } from './backup.service';

/**
 * `/api/backups` (admins): make a backup of DATA_DIR's stores now (201 with what it holds; 409
 * while one is being made; 507 when the disk has not room for it; 500 with the reason when it
 * failed), and list the ones kept. Owns the routes only (BackupService makes
 * them). The CLI's `backup` command calls the first.
 */
@Controller('backups')
export class BackupController {
  constructor(private readonly backups: BackupService) {}

  @Roles('admin')
  @Post()
  create(): Promise<BackupInfo> {
    return this.backups.create();
  }

  @Roles('admin')
  @Get()
  async list(): Promise<BackupListResponse> {
    return { backups: await this.backups.list() };
  }
}
