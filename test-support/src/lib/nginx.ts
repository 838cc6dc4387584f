/**
 * Debian's nginx as a private reverse proxy for tests: renders a shipped http-context template
 * (deploy/nginx/pulse.conf, its `${NAME}` variables) into a temp prefix with its own pid file,
 * error log and temp paths, runs it in the foreground and stops it. Owns that process and
 * folder; never touches a system-wide nginx.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net';
import { WORKSPACE_ROOT } from './processes';

export const NGINX_BIN = process.env['NGINX_BIN'] ?? '/usr/sbin/nginx';

export interface Nginx {
  /** `http://127.0.0.1:port`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * `template` with each `${NAME}` of `vars` replaced (what the nginx image's envsubst does with
 * the variables it is given); nginx's own `$variables` stay. A `${NAME}` left over is an error.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  const out = template.replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
  const left = /\$\{[A-Z0-9_]+\}/.exec(out);
  if (left) throw new Error(`template variable ${left[0]} not given`);
  return out;
}

/** Run nginx on `port` with `templateFile` rendered with `vars` as its only http-context file. */
export async function startNginx(
  templateFile: string,
  port: number,
  vars: Record<string, string>,
): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const site = join(dir, 'site.conf');
  writeFileSync(site, renderTemplate(readFileSync(templateFile, 'utf8'), vars));
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      // As root, workers would drop to nobody and could not read this 0700 folder.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      `error_log ${join(dir, 'logs', 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log off;`,
      `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
      `  include ${site};`,
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    NGINX_BIN,
    [
      '-p',
      dir,
      '-c',
      conf,
      '-e',
      join(dir, 'logs', 'error.log'),
      '-g',
      `daemon off; pid ${join(dir, 'nginx.pid')};`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('error', (error) => (output += String(error)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill('SIGKILL');
    const log = readFileSafe(join(dir, 'logs', 'error.log'));
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${String(error)}\n${output}\n${log}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT'); // graceful: workers finish, then exit
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** deploy/nginx: the shipped site template (pulse.conf) and the retry page it serves. */
export const PULSE_NGINX_DIR = join(WORKSPACE_ROOT, 'deploy/nginx');

/**
 * The shipped `deploy/nginx/pulse.conf` on a free loopback port in front of gateways `a` and `b`
 * (`host:port` each; one gateway: both the same), its retry page from PULSE_NGINX_DIR.
 */
export async function startPulseNginx(a: string, b = a): Promise<Nginx> {
  const port = await freePort();
  return startNginx(join(PULSE_NGINX_DIR, 'pulse.conf'), port, {
    PULSE_LISTEN: `127.0.0.1:${port}`,
    PULSE_GATEWAY_A: a,
    PULSE_GATEWAY_B: b,
    PULSE_PAGES: PULSE_NGINX_DIR,
  });
}
