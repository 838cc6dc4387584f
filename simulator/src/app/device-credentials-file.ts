import { isValidId } from '@pulse/protocol';
import { readFileSync } from 'node:fs';

/**
 * `--credentials-file`: one MQTT identity per simulated device (username = device id, password
 * = the secret `pulse-simulator credentials create` printed), for a broker that refuses
 * anonymous devices. Either a JSON object `{"<device id>": "<secret>", ...}` or lines
 * `<device id>:<secret>` (blank lines and `#` comments skipped). Owns reading and checking that
 * file; must not connect, and its messages name lines and ids, never a secret.
 */
export type DeviceSecrets = ReadonlyMap<string, string>;

/** The file's id → secret map, or one error line per problem. */
export function readDeviceSecrets(
  path: string,
): { ok: true; secrets: DeviceSecrets } | { ok: false; errors: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return {
      ok: false,
      errors: [
        `--credentials-file: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`,
      ],
    };
  }
  const entries: [string, unknown, string][] = [];
  if (text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, errors: [`--credentials-file: ${path} is not valid JSON`] };
    }
    for (const [id, secret] of Object.entries(parsed as Record<string, unknown>))
      entries.push([id, secret, `entry ${JSON.stringify(id).slice(0, 70)}`]);
  } else {
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      const where = `line ${i + 1}`;
      entries.push(
        colon < 0
          ? ['', undefined, where]
          : [line.slice(0, colon).trim(), line.slice(colon + 1).trim(), where],
      );
    });
  }
  const errors: string[] = [];
  const secrets = new Map<string, string>();
  for (const [id, secret, where] of entries) {
    if (!isValidId(id) || typeof secret !== 'string' || secret === '')
      errors.push(`--credentials-file ${where}: expected <device id>:<secret>`);
    else secrets.set(id, secret);
  }
  if (errors.length === 0 && secrets.size === 0)
    errors.push(`--credentials-file: ${path} has no credentials`);
  return errors.length > 0 ? { ok: false, errors: errors.slice(0, 10) } : { ok: true, secrets };
}
