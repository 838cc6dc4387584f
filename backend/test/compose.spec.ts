/**
 * Static check of docker-compose.yml and the Dockerfiles it builds (no Docker engine runs
 * on these machines): every referenced file and build context exists, every COPY source
 * exists, the backend's environment is valid for the backend's own config schema, and
 * ports and broker URLs line up with the services that provide them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigSchema, loadConfig } from '../src/app/config/config';

const root = resolve(__dirname, '../..');
type Service = {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  secrets?: string[];
  volumes?: string[];
};
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
};
const services = compose.services;

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

describe('docker-compose.yml', () => {
  it('has the broker, the gateway and the simulator', () => {
    expect(Object.keys(services).sort()).toEqual(['backend', 'mosquitto', 'simulator']);
  });

  it('pins every image and dependency to a service that exists', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.image) expect(service.image).toMatch(/:[0-9][\w.-]*$/);
      for (const dep of Object.keys(service.depends_on ?? {})) {
        expect({
          service: name,
          dependsOn: dep,
          exists: dep in services,
        }).toEqual({ service: name, dependsOn: dep, exists: true });
      }
    }
  });

  it.each(['backend', 'simulator'])(
    '%s builds from an existing context, Dockerfile and COPY sources',
    (name) => {
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
          expect({
            copy: source,
            exists: existsSync(resolve(context, source)),
          }).toEqual({ copy: source, exists: true });
        }
      }
      // Build stages run on the Node line the workspace supports.
      for (const from of lines.filter((l) => /^FROM\s/i.test(l)))
        expect(from).toMatch(/node:20\.(19|[2-9]\d)/);
      // Build context exclusions keep node_modules and build output out of the image context.
      const ignore = readFileSync(join(context, '.dockerignore'), 'utf8');
      expect(ignore).toMatch(/^node_modules$/m);
      expect(ignore).toMatch(/^dist$/m);
    },
  );

  it('runs the backend bundle the webpack build writes', () => {
    const { lines } = dockerfile(services['backend']);
    const cmd = lines.find((l) => /^CMD\s/i.test(l)) ?? 'CMD null';
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', 'dist/backend/main.js']);
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

  it('gives the backend an environment its config accepts, and every variable is one it reads', () => {
    const env = services['backend'].environment ?? {};
    const known = Object.keys(ConfigSchema.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    // The secrets are made on the host (make-passwords.sh): stand-ins with the same shape.
    const secrets = mkdtempSync(join(tmpdir(), 'pulse-compose-secrets-'));
    const local = Object.fromEntries(
      Object.entries(env).map(([key, value]) => {
        if (!value.startsWith('/run/secrets/')) return [key, value];
        const file = join(secrets, value.slice('/run/secrets/'.length));
        writeFileSync(file, 'stand-in-password\n');
        return [key, file];
      }),
    );
    const config = loadConfig(local);
    rmSync(secrets, { recursive: true, force: true });
    expect(config.HOST).toBe('0.0.0.0'); // reachable through the published port
    expect(config.SIMULATOR).toBe('off'); // the fleet is its own service here
    const published = (services['backend'].ports ?? []).map((p) =>
      Number(String(p).split(':').pop()),
    );
    expect(published).toContain(config.PORT);
    const { lines } = dockerfile(services['backend']);
    expect(lines.some((l) => new RegExp(`^EXPOSE\\s.*\\b${config.PORT}\\b`).test(l))).toBe(true);
  });

  it('points the backend and the simulator at the broker service and its port', () => {
    const broker = new URL(services['backend'].environment?.['MQTT_URL'] ?? '');
    expect(broker.hostname in services).toBe(true);
    const brokerPorts = (services[broker.hostname].ports ?? []).map((p) =>
      Number(String(p).split(':').pop()),
    );
    expect(brokerPorts).toContain(Number(broker.port));
    const command = services['simulator'].command ?? [];
    expect(command[command.indexOf('--url') + 1]).toBe(broker.href.replace(/\/$/, ''));
    expect(Object.keys(services['backend'].depends_on ?? {})).toContain(broker.hostname);
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

    it('lets a device write only its own topics and the gateway read every device', () => {
      const lines = acl.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
      expect(lines).toContain('pattern write devices/%u/#');
      expect(lines.slice(lines.indexOf('user gateway') + 1)[0]).toBe('topic read devices/#');
      expect(services['backend'].environment?.['MQTT_USERNAME']).toBe('gateway');
      expect(services['simulator'].environment?.['MQTT_USERNAME']).toBe('simulator');
      expect(lines).toContain('user simulator');
    });

    it('passes every password as a mounted secret file, none inline', () => {
      for (const [name, service] of Object.entries(services)) {
        for (const [key, value] of Object.entries(service.environment ?? {})) {
          expect({ service: name, key, inline: /PASSWORD$|SECRET$|TOKEN$/.test(key) }).toEqual({
            service: name,
            key,
            inline: false,
          });
          if (!value.startsWith('/run/secrets/')) continue;
          const secret = value.slice('/run/secrets/'.length);
          expect({ service: name, secret, mounted: service.secrets?.includes(secret) }).toEqual({
            service: name,
            secret,
            mounted: true,
          });
        }
        expect(String(service.command ?? '')).not.toMatch(/password(?!-file)/i);
      }
      // Every secret file is one make-passwords.sh writes, and git ignores them.
      for (const { file } of Object.values(compose.secrets)) {
        expect(file.startsWith('./deploy/secrets/')).toBe(true);
        const name = file.slice('./deploy/secrets/'.length);
        expect(makePasswords).toContain(name);
      }
      expect(readFileSync(join(root, '.gitignore'), 'utf8')).toMatch(/^deploy\/secrets\/$/m);
    });

    it('publishes ports on 127.0.0.1 only and turns anonymous dashboard access off', () => {
      for (const service of Object.values(services)) {
        for (const port of service.ports ?? []) expect(String(port)).toMatch(/^127\.0\.0\.1:/);
      }
      expect(services['backend'].environment?.['ANONYMOUS_ROLE']).toBe('none');
      expect(services['backend'].environment?.['PULSE_ADMIN_PASSWORD_FILE']).toBe(
        '/run/secrets/pulse_admin_password',
      );
    });
  });
});
