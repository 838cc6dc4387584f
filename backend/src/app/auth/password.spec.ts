import { hashPassword, verifyPassword } from './password';

// Real argon2 (native): the stored hash says which algorithm and cost made it, and only the
// password that made it verifies.
describe('password hashing', () => {
  it('hashes with argon2id at OWASP’s minimum cost', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('verifies the password that made the hash and nothing else', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapler')).toBe(false);
    expect(await verifyPassword('not a hash', 'correct horse battery staple')).toBe(false);
  });
});
