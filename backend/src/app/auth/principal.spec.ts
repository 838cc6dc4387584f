import { isLoopbackAddress, isLoopbackHost } from '../common/loopback';
import { anonymousRoleOf } from './auth.service';
import { groupScope, Principal, refusal } from './principal';

const user = (
  role: 'viewer' | 'operator' | 'admin',
  groups: string[] | null = null,
): Principal => ({
  kind: 'user',
  username: 'u',
  role,
  groups,
  tokenId: 't',
});

describe('refusal', () => {
  it('ranks roles: each has the rights of the ones before it', () => {
    expect(refusal(user('viewer'), 'viewer')).toBeNull();
    expect(refusal(user('viewer'), 'operator')).toBe('forbidden');
    expect(refusal(user('operator'), 'operator')).toBeNull();
    expect(refusal(user('operator'), 'admin')).toBe('forbidden');
    expect(refusal(user('admin'), 'operator')).toBeNull();
  });

  it('lets an anonymous viewer watch only, and an anonymous none nothing (unauthorized)', () => {
    expect(refusal({ kind: 'anonymous', role: 'viewer' }, 'viewer')).toBeNull();
    expect(refusal({ kind: 'anonymous', role: 'viewer' }, 'operator')).toBe('unauthorized');
    expect(refusal({ kind: 'anonymous', role: 'none' }, 'viewer')).toBe('unauthorized');
  });

  it('scopes only user principals that carry groups', () => {
    expect(groupScope(user('viewer', ['hall-a']))).toEqual(['hall-a']);
    expect(groupScope(user('admin'))).toBeNull();
    expect(groupScope({ kind: 'anonymous', role: 'viewer' })).toBeNull();
  });
});

describe('anonymousRoleOf', () => {
  it.each([
    ['127.0.0.1', 'viewer'],
    ['localhost', 'viewer'],
    ['::1', 'viewer'],
    ['0.0.0.0', 'none'],
    ['192.0.2.10', 'none'],
  ])('defaults on HOST %s to %s', (host, role) => {
    expect(anonymousRoleOf({ HOST: host, ANONYMOUS_ROLE: undefined })).toBe(role);
  });

  it('defaults to none on a loopback HOST behind a proxy (TRUST_PROXY): the world reaches it', () => {
    const behind = { HOST: '127.0.0.1', ANONYMOUS_ROLE: undefined, TRUST_PROXY: ['127.0.0.1'] };
    expect(anonymousRoleOf(behind)).toBe('none');
    expect(anonymousRoleOf({ ...behind, TRUST_PROXY: [] })).toBe('viewer');
    expect(anonymousRoleOf({ ...behind, ANONYMOUS_ROLE: 'viewer' })).toBe('viewer');
  });

  it('takes viewer or none as given and refuses operator/admin', () => {
    expect(anonymousRoleOf({ HOST: '0.0.0.0', ANONYMOUS_ROLE: 'viewer' })).toBe('viewer');
    expect(anonymousRoleOf({ HOST: '127.0.0.1', ANONYMOUS_ROLE: 'none' })).toBe('none');
    expect(() => anonymousRoleOf({ HOST: '127.0.0.1', ANONYMOUS_ROLE: 'admin' })).toThrow(
      /ANONYMOUS_ROLE=admin/,
    );
  });
});

describe('loopback', () => {
  it('knows loopback peers in IPv4, IPv6 and IPv4-mapped form', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('::ffff:192.0.2.2')).toBe(false);
    expect(isLoopbackAddress(undefined)).toBe(false);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('pulse.example.com')).toBe(false);
  });
});
