/**
 * Static check of docker-compose.yml and the Dockerfiles it builds (no Docker engine runs
 * on these machines): every referenced file and build context exists, every COPY source
 * exists, the backend's environment is valid for the backend's own config schema, and
 * ports and broker URLs line up with the services that provide them.
 */
import { existsSync, readFileSync } from 'node:fs';
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
};
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
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
    const config = loadConfig(env);
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
});
