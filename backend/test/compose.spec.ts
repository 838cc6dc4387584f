/**
 * Static check of docker-compose.yml and the Dockerfiles it builds (no Docker engine runs on
 * these machines): the scale-out topology (Mosquitto, Redis, PostgreSQL, two gateways, nginx,
 * the simulator), every referenced file, build context and COPY source exists, each gateway's
 * environment is valid for the backend's own config schema, ports, URLs and healthchecks line
 * up with the services that provide them, and secrets stay in files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { mosquittoAvailable } from '@pulse/test-support';
import { Config, ConfigSchema, loadConfig } from '../src/app/config/config';

const root = resolve(__dirname, '../..');
const MOSQUITTO_PASSWD = process.env['MOSQUITTO_PASSWD_BIN'] ?? '/usr/bin/mosquitto_passwd';
type Service = {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  secrets?: string[];
  volumes?: string[];
  /** Read as the names of the networks (Compose's list form or its map form with addresses). */
  networks?: string[];
  healthcheck?: { test: string[] };
};
type RawService = Omit<Service, 'networks'> & {
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
};
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
  // `<<: *gateway`: both gateways share one definition, as Compose reads it.
  merge: true,
}) as {
  services: Record<string, RawService>;
  secrets: Record<string, { file: string }>;
  networks: Record<string, { internal?: boolean; ipam?: { config: { subnet: string }[] } }>;
};
const services: Record<string, Service> = Object.fromEntries(
  Object.entries(compose.services).map(([name, service]) => [
    name,
    {
      ...service,
      networks: Array.isArray(service.networks)
        ? service.networks
        : service.networks && Object.keys(service.networks),
    },
  ]),
);
const GATEWAYS = ['gateway-a', 'gateway-b'];
const BUILT = [...GATEWAYS, 'simulator'];

/** Instructions of a Dockerfile, continuation lines joined. */
function dockerfile(service: Service): { file: string; lines: string[] } {
  if (!service.build) throw new Error('service has no build section');
  const context = resolve(root, service.build.context);
  const file = resolve(context, service.build.dockerfile ?? 'Dockerfile');
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return { file, lines };
}

/** Container ports a service publishes. */
const published = (service: Service) =>
  (service.ports ?? []).map((p) => Number(String(p).split(':').pop()));

/** A gateway's config as the backend would load it, secrets replaced by stand-in files. */
function gatewayConfig(name: string): Config {
  const env = services[name].environment ?? {};
  const secrets = mkdtempSync(join(tmpdir(), 'pulse-compose-secrets-'));
  try {
    const local = Object.fromEntries(
      Object.entries(env).map(([key, value]) => {
        if (!value.startsWith('/run/secrets/')) return [key, value];
        const file = join(secrets, value.slice('/run/secrets/'.length));
        // Long enough for PULSE_SECRET_FILE's 32-byte minimum.
        writeFileSync(file, 'stand-in-secret-of-more-than-32-bytes\n');
        return [key, file];
      }),
    );
    return loadConfig(local);
  } finally {
    rmSync(secrets, { recursive: true, force: true });
  }
}

describe('docker-compose.yml', () => {
  it('has the broker, Redis, PostgreSQL, two gateways, nginx and the simulator', () => {
    expect(Object.keys(services).sort()).toEqual([
      'gateway-a',
      'gateway-b',
      'mosquitto',
      'nginx',
      'postgres',
      'redis',
      'simulator',
    ]);
  });

  it('pins every image and depends only on services that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.image) expect(service.image).toMatch(/:[0-9][\w.-]*$/);
      for (const dep of Object.keys(service.depends_on ?? {})) {
        expect({ service: name, dependsOn: dep, exists: dep in services }).toEqual({
          service: name,
          dependsOn: dep,
          exists: true,
        });
      }
    }
  });

  it('mounts only files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':');
        if (!source.startsWith('./')) continue; // a named volume
        expect({ service: name, source, exists: existsSync(join(root, source)) }).toEqual({
          service: name,
          source,
          exists: true,
        });
        expect(volume).toMatch(/:ro$/);
      }
    }
  });

  it.each(BUILT)('%s builds from an existing context, Dockerfile and COPY sources', (name) => {
    const service = services[name];
    const context = resolve(root, service.build?.context ?? '(no build)');
    expect(existsSync(context)).toBe(true);
    const { file, lines } = dockerfile(service);
    expect(existsSync(file)).toBe(true);
    const copies = lines.filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const parts = copy
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        expect({ copy: source, exists: existsSync(resolve(context, source)) }).toEqual({
          copy: source,
          exists: true,
        });
      }
    }
    // Build stages run on the Node line the workspace supports.
    for (const from of lines.filter((l) => /^FROM\s/i.test(l)))
      expect(from).toMatch(/node:20\.(19|[2-9]\d)/);
    // Build context exclusions keep node_modules and build output out of the image context.
    const ignore = readFileSync(join(context, '.dockerignore'), 'utf8');
    expect(ignore).toMatch(/^node_modules$/m);
    expect(ignore).toMatch(/^dist$/m);
  });

  it('runs the backend bundle the webpack build writes in both gateways', () => {
    for (const name of GATEWAYS) {
      const { lines } = dockerfile(services[name]);
      const cmd = lines.find((l) => /^CMD\s/i.test(l)) ?? 'CMD null';
      expect(JSON.parse(cmd.slice(4))).toEqual(['node', 'dist/backend/main.js']);
    }
    const webpack = readFileSync(join(root, 'backend/webpack.config.js'), 'utf8');
    expect(webpack).toContain("join(__dirname, '../dist/backend')");
  });

  it('runs the simulator bundle the esbuild build writes', () => {
    const { lines } = dockerfile(services['simulator']);
    const entry = lines.find((l) => /^ENTRYPOINT\s/i.test(l)) ?? 'ENTRYPOINT null';
    expect(JSON.parse(entry.slice(11))).toEqual(['node', 'dist/simulator/main.js']);
    const project = JSON.parse(readFileSync(join(root, 'simulator/project.json'), 'utf8'));
    expect(project.targets.build.options.outputPath).toBe('dist/simulator');
    expect(project.targets.build.options.main).toBe('simulator/src/main.ts');
  });

  describe.each(GATEWAYS)('%s', (name) => {
    const service = services[name];
    const env = service.environment ?? {};

    it('has an environment its config accepts, every variable one it reads', () => {
      const known = Object.keys(ConfigSchema.shape);
      expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
      const config = gatewayConfig(name);
      expect(config.HOST).toBe('0.0.0.0'); // reachable from nginx
      expect(config.SIMULATOR).toBe('off'); // the fleet is its own service here
      expect(config.LOG_FORMAT).toBe('json'); // for a log collector, whatever the terminal
      const { lines } = dockerfile(service);
      expect(lines.some((l) => new RegExp(`^EXPOSE\\s.*\\b${config.PORT}\\b`).test(l))).toBe(true);
    });

    it('reaches Mosquitto, PostgreSQL and Redis by their service names, once they are healthy', () => {
      const config = gatewayConfig(name);
      const broker = new URL(config.MQTT_URL ?? '');
      expect(published(services[broker.hostname])).toContain(Number(broker.port));
      const database = new URL(config.DATABASE_URL ?? '');
      expect(database.hostname).toBe('postgres');
      expect(database.port).toBe('5432'); // PostgreSQL's own port in its image
      expect(database.password).toBe(''); // no secret in the environment
      const redis = new URL(env['REDIS_URL'] ?? '');
      expect(redis.hostname).toBe('redis');
      expect(redis.port).toBe('6379');
      for (const dependency of [broker.hostname, 'postgres', 'redis']) {
        expect(service.depends_on?.[dependency]).toEqual({ condition: 'service_healthy' });
        const shared = (services[dependency].networks ?? []).some((n) =>
          service.networks?.includes(n),
        );
        expect({ dependency, sharesANetwork: shared }).toEqual({
          dependency,
          sharesANetwork: true,
        });
      }
    });

    it('is healthy when /api/ready answers on its own port', () => {
      const config = gatewayConfig(name);
      const probe = (service.healthcheck?.test ?? []).join(' ');
      expect(probe).toContain(`http://127.0.0.1:${config.PORT}/api/ready`);
      expect(probe).toMatch(/r\.ok \? 0 : 1/);
      const controller = readFileSync(
        join(root, 'backend/src/app/http/system.controller.ts'),
        'utf8',
      );
      expect(controller).toMatch(/@Public\(\)\s+@Get\('ready'\)/);
    });
  });

  it('tells the two gateways apart in logs, metrics and the broker', () => {
    const [a, b] = GATEWAYS.map(gatewayConfig);
    expect([a.GATEWAY_ID, b.GATEWAY_ID]).toEqual(GATEWAYS);
    expect(a.MQTT_CLIENT_ID).not.toBe(b.MQTT_CLIENT_ID);
    // Shared state: one signing key, one users-and-tokens volume, one history database.
    const env = (name: string) => services[name].environment ?? {};
    expect(env('gateway-a')['PULSE_SECRET_FILE']).toBe(env('gateway-b')['PULSE_SECRET_FILE']);
    expect(a.DATABASE_URL).toBe(b.DATABASE_URL);
    expect(services['gateway-a'].volumes).toEqual(services['gateway-b'].volumes);
  });

  it('puts nginx in front of both gateways with the configuration the scale-out test uses', () => {
    const nginx = services['nginx'];
    const env = nginx.environment ?? {};
    expect(nginx.volumes).toEqual([
      './deploy/nginx/pulse.conf:/etc/nginx/templates/pulse.conf.template:ro',
      // Where the template looks for the page it serves while no gateway answers.
      `./deploy/nginx/pulse-unreachable.html:${env['PULSE_PAGES']}/pulse-unreachable.html:ro`,
    ]);
    const template = readFileSync(join(root, 'deploy/nginx/pulse.conf'), 'utf8');
    const variables = [
      ...new Set([...template.matchAll(/\$\{(PULSE_[A-Z_]+)\}/g)].map((m) => m[1])),
    ].sort();
    expect(Object.keys(env).sort()).toEqual(variables);
    for (const [variable, gateway] of [
      ['PULSE_GATEWAY_A', 'gateway-a'],
      ['PULSE_GATEWAY_B', 'gateway-b'],
    ]) {
      expect(env[variable]).toBe(`${gateway}:${gatewayConfig(gateway).PORT}`);
    }
    expect(published(nginx)).toEqual([Number(env['PULSE_LISTEN'])]);
    expect(Object.keys(nginx.depends_on ?? {}).sort()).toEqual(GATEWAYS);
    // Only nginx serves browsers: the gateways publish no port of their own.
    for (const name of GATEWAYS) expect(services[name].ports).toBeUndefined();
  });

  it('points the simulator at the broker the gateways use', () => {
    const broker = new URL(services['gateway-a'].environment?.['MQTT_URL'] ?? '');
    const command = services['simulator'].command ?? [];
    expect(command[command.indexOf('--url') + 1]).toBe(broker.href.replace(/\/$/, ''));
    expect(Object.keys(services['simulator'].depends_on ?? {})).toContain(broker.hostname);
  });

  it('checks the health of every service others wait for', () => {
    for (const name of ['mosquitto', 'redis', 'postgres', ...GATEWAYS])
      expect({ name, healthcheck: (services[name].healthcheck?.test ?? []).length > 0 }).toEqual({
        name,
        healthcheck: true,
      });
    expect(services['redis'].healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(services['postgres'].healthcheck?.test).toEqual([
      'CMD',
      'pg_isready',
      '-U',
      'pulse',
      '-d',
      'pulse',
    ]);
  });

  describe('security', () => {
    const mosquittoConf = readFileSync(join(root, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    const acl = readFileSync(join(root, 'deploy/mosquitto/acl'), 'utf8');
    const makePasswords = readFileSync(join(root, 'deploy/mosquitto/make-passwords.sh'), 'utf8');

    it('runs Mosquitto with a password file, the ACL, max_packet_size and anonymous access off', () => {
      expect(mosquittoConf).toMatch(/^allow_anonymous false$/m);
      expect(mosquittoConf).toMatch(/^max_packet_size 66560$/m);
      expect(mosquittoConf).toMatch(/^password_file \/run\/secrets\/mosquitto_passwd$/m);
      expect(mosquittoConf).toMatch(/^acl_file \/mosquitto\/config\/acl$/m);
      const mosquitto = services['mosquitto'];
      expect(mosquitto.command).toEqual(['mosquitto', '-c', '/mosquitto/config/mosquitto.conf']);
      expect(mosquitto.volumes).toEqual([
        './deploy/mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro',
        './deploy/mosquitto/acl:/mosquitto/config/acl:ro',
      ]);
      expect(mosquitto.secrets).toEqual(['mosquitto_passwd']);
    });

    it('lets a device write only its own topics and the gateways read every device', () => {
      const lines = acl.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
      expect(lines).toContain('pattern write devices/%u/#');
      // Also covers `$share/<group>/devices/+/telemetry` (checked without the share prefix).
      expect(lines.slice(lines.indexOf('user gateway') + 1)[0]).toBe('topic read devices/#');
      for (const name of GATEWAYS)
        expect(services[name].environment?.['MQTT_USERNAME']).toBe('gateway');
      expect(services['simulator'].environment?.['MQTT_USERNAME']).toBe('simulator');
      expect(lines).toContain('user simulator');
    });

    it('passes every password and key as a mounted secret file, none inline', () => {
      for (const [name, service] of Object.entries(services)) {
        for (const [key, value] of Object.entries(service.environment ?? {})) {
          expect({ service: name, key, inline: /PASSWORD$|SECRET$|TOKEN$/.test(key) }).toEqual({
            service: name,
            key,
            inline: false,
          });
          // No URL carries a password.
          expect({
            service: name,
            key,
            value: value.replace(/\/\/[^/@]*:[^/@]*@/, '//***@'),
          }).toEqual({ service: name, key, value });
          if (!value.startsWith('/run/secrets/')) continue;
          const secret = value.slice('/run/secrets/'.length);
          expect({ service: name, secret, mounted: service.secrets?.includes(secret) }).toEqual({
            service: name,
            secret,
            mounted: true,
          });
        }
        expect(String(service.command ?? '')).not.toMatch(/password(?!-file)|requirepass/i);
      }
      // Every secret file is one make-passwords.sh writes, and git ignores them.
      for (const { file } of Object.values(compose.secrets)) {
        expect(file.startsWith('./deploy/secrets/')).toBe(true);
        const name = file.slice('./deploy/secrets/'.length);
        expect(makePasswords).toContain(name);
      }
      expect(readFileSync(join(root, '.gitignore'), 'utf8')).toMatch(/^deploy\/secrets\/$/m);
    });

    // Real: the script itself, with Debian's openssl and mosquitto_passwd, in a scratch copy of
    // deploy/; mosquitto_passwd behind a shim on PATH that records its arguments.
    // mosquitto_passwd comes with Debian's mosquitto (as the broker the specs start does).
    (mosquittoAvailable() ? it : it.skip)(
      'make-passwords.sh hashes every password without putting one in a process argument',
      () => {
        const scratch = mkdtempSync(join(tmpdir(), 'pulse-make-passwords-'));
        try {
          const script = join(scratch, 'deploy/mosquitto/make-passwords.sh');
          mkdirSync(dirname(script), { recursive: true });
          writeFileSync(script, makePasswords);
          const shims = join(scratch, 'bin');
          mkdirSync(shims);
          const argvLog = join(scratch, 'argv.log');
          writeFileSync(
            join(shims, 'mosquitto_passwd'),
            `#!/bin/sh\necho "$*" >> ${argvLog}\nexec ${MOSQUITTO_PASSWD} "$@"\n`,
            { mode: 0o755 },
          );
          execFileSync('sh', [script], {
            env: { ...process.env, PATH: `${shims}:${process.env['PATH']}` },
            stdio: 'pipe',
          });
          const secrets = join(scratch, 'deploy/secrets');
          const hashes = readFileSync(join(secrets, 'mosquitto_passwd'), 'utf8');
          expect(hashes).toMatch(/^gateway:\$7\$/m);
          expect(hashes).toMatch(/^simulator:\$7\$/m);
          const argv = readFileSync(argvLog, 'utf8');
          expect(argv.trim().split('\n')).toHaveLength(2);
          for (const name of ['mqtt_gateway_password', 'mqtt_simulator_password']) {
            const password = readFileSync(join(secrets, name), 'utf8').trim();
            expect(password.length).toBeGreaterThan(20);
            expect(argv).not.toContain(password);
            expect(hashes).not.toContain(password);
          }
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      },
    );

    it('publishes ports on 127.0.0.1 only and turns anonymous dashboard access off', () => {
      for (const service of Object.values(services)) {
        for (const port of service.ports ?? []) expect(String(port)).toMatch(/^127\.0\.0\.1:/);
      }
      for (const name of GATEWAYS) {
        expect(services[name].environment?.['ANONYMOUS_ROLE']).toBe('none');
        expect(services[name].environment?.['PULSE_ADMIN_PASSWORD_FILE']).toBe(
          '/run/secrets/pulse_admin_password',
        );
      }
    });

    it("believes X-Forwarded-For from nginx's fixed address only", () => {
      const nginxAddress = (
        compose.services['nginx'].networks as Record<string, { ipv4_address: string }>
      )['edge'].ipv4_address;
      const subnet = compose.networks['edge'].ipam?.config[0].subnet ?? '';
      expect(nginxAddress.startsWith(subnet.split('.').slice(0, 3).join('.') + '.')).toBe(true);
      for (const name of GATEWAYS) expect(gatewayConfig(name).TRUST_PROXY).toEqual([nginxAddress]);
    });

    it('keeps Redis and PostgreSQL on an internal network only the gateways join', () => {
      expect(compose.networks['backplane']).toEqual({ internal: true });
      for (const name of ['redis', 'postgres']) {
        expect(services[name].ports).toBeUndefined();
        expect(services[name].networks).toEqual(['backplane']);
      }
      const members = Object.entries(services)
        .filter(([, service]) => service.networks?.includes('backplane'))
        .map(([name]) => name)
        .sort();
      expect(members).toEqual(['gateway-a', 'gateway-b', 'postgres', 'redis']);
    });
  });
});
