import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  CreateUserRequest,
  CreateUserRequestSchema,
  UpdateUserRequest,
  UpdateUserRequestSchema,
  UserInfo,
  UserListResponse,
} from '@pulse/protocol';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { Roles } from './roles.decorator';
import { UsersService } from './users.service';

/**
 * `/api/users`: user administration, admin only (one `@Roles` for the controller). Thin: must
 * not hold rules (UsersService does) or touch the store.
 */
@Roles('admin')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  list(): UserListResponse {
    return this.users.list();
  }

  /** 201; 409 if the username is taken. */
  @Post()
  create(
    @Body(new ZodValidationPipe(CreateUserRequestSchema)) body: CreateUserRequest,
  ): Promise<UserInfo> {
    return this.users.create(body);
  }

  /** Disabling or a new password revokes the user's sessions and tokens. */
  @Patch(':username')
  update(
    @Param('username') username: string,
    @Body(new ZodValidationPipe(UpdateUserRequestSchema)) body: UpdateUserRequest,
  ): Promise<UserInfo> {
    return this.users.update(username, body);
  }

  /** 204; the user's sessions and tokens go with it. */
  @Delete(':username')
  @HttpCode(204)
  remove(@Param('username') username: string): void {
    this.users.remove(username);
  }
}
