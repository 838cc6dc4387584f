// `pulse-simulator backup`: asks the gateway for a backup of its DATA_DIR's stores
// (POST /api/backups, admin; decision 0071) and prints where it is, to copy off the machine.
// Owns that command's arguments and output; the gateway, token and error wording are the
// admin commands' (credentials-command.ts).
import type { BackupInfo } from '@pulse/protocol';
import { parseArgs } from 'node:util';
import {
  adminTarget,
  CommandIo,
  messageOf,
  redactTokens,
  unreachable,
} from './credentials-command';

export const BACKUP_USAGE = `Usage: node dist/simulator/main.js backup [options]

Asks the running Pulse gateway for a backup (admin role needed): a consistent copy of its
SQLite stores, its token signing key and its history journal, in a new folder under
DATA_DIR/backups/ on the gateway's machine (the newest 3 are kept). Refused when the
gateway's disk has not room for the copy and BACKUP_RESERVE_MB besides. Prints the folder on
stdout and its files on stderr. Restore: stop the gateway, put the folder's files in an
empty DATA_DIR, start it. With DATABASE_URL, back PostgreSQL up with pg_dump as well.

Options:
  --url <url>          the gateway, http:// or https:// (default: the one npm start runs
                       in this environment, http://HOST:PORT; unset, http://127.0.0.1:3000)
  --token-file <f>     file whose first line is an admin bearer token
                       (or env PULSE_TOKEN; never on the command line)
  -h, --help           show this help

Exit codes: 0 done, 1 refused or unreachable, 2 bad arguments.
`;

/** What the gateway's refusals of a backup mean, said before its own message. */
const REFUSALS: Record<number, string> = {
  409: 'no backup made, one is being made already',
  500: 'the backup failed, nothing of it kept',
  507: 'no backup made, not enough free disk space on the gateway',
};

/** Run the command; resolves with the process exit code. Never throws. */
export async function runBackupCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  let values: { url?: string; 'token-file'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        'token-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.stderr(
      `pulse-simulator backup: ${redactTokens((error as Error).message)}\n\n${BACKUP_USAGE}`,
    );
    return 2;
  }
  if (values.help) {
    io.stdout(BACKUP_USAGE);
    return 0;
  }
  const target = adminTarget(values, env);
  if ('error' in target) {
    io.stderr(
      `pulse-simulator backup: ${target.error}\n${target.usage === false ? '' : `\n${BACKUP_USAGE}`}`,
    );
    return 2;
  }
  let response: Response;
  try {
    response = await io.fetch(`${target.url}/api/backups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' },
    });
  } catch (error) {
    io.stderr(
      `pulse-simulator backup: cannot reach ${target.url}: ${unreachable(target.url, error)}\n`,
    );
    return 1;
  }
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    const what = REFUSALS[response.status];
    io.stderr(
      `pulse-simulator backup: ${what ? `${what} (${response.status})` : `POST /api/backups answered ${response.status}`}: ${messageOf(body)}\n`,
    );
    return 1;
  }
  const backup = (await response.json()) as BackupInfo;
  io.stderr(
    `backup made in ${backup.tookMs ?? '?'} ms, ${backup.bytes} bytes:\n${backup.files
      .map((file) => `  ${file.name}  ${file.bytes}\n`)
      .join('')}${(backup.notes ?? []).map((note) => `note: ${note}\n`).join('')}`,
  );
  io.stdout(`${backup.path}\n`);
  return 0;
}
