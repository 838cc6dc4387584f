import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { CreateUserRequest, UpdateUserRequest, UserInfo, UserListResponse } from '@pulse/protocol';
import { AuthService } from './auth.service';
import { hashPassword } from './password';
import { UsersRepository } from './users.repository';

/**
 * User administration behind `/api/users` (admin only, checked by the guard): create, change
 * role/password/disabled, delete. Disabling, deleting or a new password revokes every session
 * and token of the user (their open sockets are cut); a new role reaches open sockets at once. Refuses to leave Pulse without an enabled admin. Owns these rules;
 * must not know HTTP beyond Nest's exceptions or touch sessions other than through AuthService.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly repo: UsersRepository,
    private readonly auth: AuthService,
  ) {}

  list(): UserListResponse {
    return { users: this.repo.listUsers() };
  }

  async create(request: CreateUserRequest): Promise<UserInfo> {
    const user = {
      username: request.username,
      role: request.role,
      passwordHash: await hashPassword(request.password),
      createdAt: Date.now(),
      disabled: false,
    };
    if (!this.repo.insertUser(user))
      throw new ConflictException(`user "${request.username}" exists`);
    return { username: user.username, role: user.role, createdAt: user.createdAt, disabled: false };
  }

  async update(username: string, change: UpdateUserRequest): Promise<UserInfo> {
    const current = this.existing(username);
    const losesAdmin =
      current.role === 'admin' &&
      !current.disabled &&
      ((change.role !== undefined && change.role !== 'admin') || change.disabled === true);
    if (losesAdmin) this.keepOneAdmin();
    this.repo.updateUser(username, {
      role: change.role,
      disabled: change.disabled,
      passwordHash: change.password === undefined ? undefined : await hashPassword(change.password),
    });
    if (change.disabled === true || change.password !== undefined) this.auth.revokeUser(username);
    // A new role (or re-enabling) takes effect on the user's open sockets too.
    else this.auth.userChanged(username);
    return this.info(username);
  }

  remove(username: string): void {
    const current = this.existing(username);
    if (current.role === 'admin' && !current.disabled) this.keepOneAdmin();
    this.auth.revokeUser(username);
    this.repo.deleteUser(username);
  }

  private existing(username: string) {
    const user = this.repo.findUser(username);
    if (!user) throw new NotFoundException(`no user "${username}"`);
    return user;
  }

  private info(username: string): UserInfo {
    const { role, createdAt, disabled } = this.existing(username);
    return { username, role, createdAt, disabled };
  }

  private keepOneAdmin(): void {
    if (this.repo.countActiveAdmins() <= 1)
      throw new ConflictException('Pulse needs at least one enabled admin: promote another first');
  }
}
