import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyOnce, loadSigningKey, SECRET_KEY_FILE } from './token-signer';

// Real files in a temp DATA_DIR.
describe('the token signing key in DATA_DIR', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is made once and read back the same', () => {
    const first = loadSigningKey({ DATA_DIR: dir, PULSE_SECRET_FILE: undefined });
    const again = loadSigningKey({ DATA_DIR: dir, PULSE_SECRET_FILE: undefined });
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    expect(first.length).toBeGreaterThanOrEqual(32);
  });

  it('keeps the key another gateway on the same DATA_DIR made a moment before, instead of failing', () => {
    // Two gateways started together both saw no key; the other one's landed first.
    const file = join(dir, SECRET_KEY_FILE);
    const theirs = `${'ab'.repeat(32)}\n`;
    writeFileSync(file, theirs, { mode: 0o600 });
    expect(() => createKeyOnce(file)).not.toThrow();
    expect(readFileSync(file, 'utf8')).toBe(theirs);
    expect(readdirSync(dir)).toEqual([SECRET_KEY_FILE]); // no file of ours left behind
  });
});
