import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/*
 * Docker does not run in CI, so the compose file and the Dockerfile are checked statically:
 * every command, mount and healthcheck must point at something that exists.
 */

const ROOT = resolve(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string> | string[];
  volumes?: (string | { type?: string; source?: string })[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string | string[] };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

/** The services built from this repo, and the variable each takes its HTTP port from. */
const APP_PORT_VARIABLE: Record<string, string> = {
  api: 'PORT',
  worker: 'METRICS_PORT',
  results: 'METRICS_PORT',
  examples: 'EXAMPLES_PORT',
};

const words = (command: string | string[] | undefined): string[] =>
  Array.isArray(command) ? command : (command ?? '').split(/\s+/).filter(Boolean);

const environment = (service: Service): Record<string, string> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((entry) => entry.split(/=(.*)/s).slice(0, 2)))
    : Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));

/** dist/apps/x/src/main.js → apps/x/src/main.ts */
const sourceOf = (built: string): string => built.replace(/^dist\//, '').replace(/\.js$/, '.ts');

/** Fails naming the missing file rather than with a bare "expected true". */
const expectInRepo = (path: string): void => {
  expect({ path, exists: existsSync(resolve(ROOT, path)) }).toEqual({ path, exists: true });
};

describe('docker-compose.yml', () => {
  it('has the services', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['redis', 'api', 'worker', 'results', 'examples', 'prometheus', 'grafana']),
    );
  });

  it('runs Redis with an append-only file and no eviction', () => {
    const command = words(services.redis.command).join(' ');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
  });

  it('runs three workers', () => {
    expect(services.worker.deploy?.replicas).toBe(3);
  });

  it.each(Object.keys(APP_PORT_VARIABLE))('starts %s from a main.ts that exists', (name) => {
    const command = words(services[name].command);
    expect(command[0]).toBe('node');
    expect(command[1]).toMatch(new RegExp(`^dist/apps/${name}/src/main\\.js$`));
    expectInRepo(sourceOf(command[1]));
  });

  it.each(Object.entries(APP_PORT_VARIABLE))('health-checks %s with node on its %s', (name, variable) => {
    const port = environment(services[name])[variable];
    expect(port).toMatch(/^\d+$/);
    const test = words(services[name].healthcheck?.test);
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(test[3]).toContain(`fetch('http://127.0.0.1:${port}/health')`);
  });

  it('documents every variable it sets in the README configuration table', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const names = Object.values(services).flatMap((service) => Object.keys(environment(service)));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(readme).toMatch(new RegExp('^\\| `' + name + '`', 'm'));
  });

  it('listens on every interface inside the container, where the ports are published', () => {
    for (const name of ['api', 'worker', 'results']) expect(environment(services[name]).HOST).toBe('0.0.0.0');
    expect(environment(services.examples).EXAMPLES_HOST).toBe('0.0.0.0');
  });

  it('mounts only paths that exist in the repo', () => {
    const sources = Object.values(services).flatMap((service) =>
      (service.volumes ?? [])
        .map((volume) => (typeof volume === 'string' ? volume.split(':')[0] : (volume.source ?? '')))
        .filter((source) => source.startsWith('.') || source.startsWith('/')),
    );
    expect(sources.length).toBeGreaterThan(0);
    sources.forEach(expectInRepo);
  });
});

describe('docker-compose.cluster.yml over docker-compose.yml', () => {
  const override = parse(readFileSync(join(ROOT, 'docker-compose.cluster.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service & { depends_on?: Record<string, { condition: string }> }>;
    volumes: Record<string, unknown>;
  };
  const nodes = ['redis', 'redis-2', 'redis-3'];

  it('runs three cluster-enabled masters that persist and never evict, each on its own volume', () => {
    for (const name of nodes) {
      const command = words(override.services[name].command).join(' ');
      expect(command).toMatch(/--cluster-enabled yes\b/);
      expect(command).toMatch(/--appendonly yes\b/);
      expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    }
    const volumes = nodes.map((name) => (override.services[name].volumes as string[])[0].split(':')[0]);
    expect(new Set(volumes).size).toBe(3);
    const declared = { ...(compose as unknown as { volumes: object }).volumes, ...override.volumes };
    for (const volume of volumes) expect(Object.keys(declared)).toContain(volume);
  });

  it('joins the three masters once, after each is healthy', () => {
    const init = override.services['redis-cluster'];
    const script = words(init.command).join(' ');
    expect(script).toContain(
      `--cluster create ${nodes.map((n) => `${n}:6379`).join(' ')} --cluster-replicas 0 --cluster-yes`,
    );
    expect(script).toMatch(/cluster_state:ok \|\|/);
    expect(Object.keys(init.depends_on ?? {}).sort()).toEqual(nodes);
  });

  it('points every Hookrunner process at the cluster, started only once it is formed', () => {
    for (const name of ['api', 'worker', 'results']) {
      expect(environment(override.services[name]).REDIS_CLUSTER_NODES).toBe(nodes.map((n) => `${n}:6379`).join(','));
      expect(override.services[name].depends_on?.['redis-cluster']).toEqual({
        condition: 'service_completed_successfully',
      });
      expect(services[name]).toBeDefined();
    }
  });
});

describe('Dockerfile', () => {
  it('runs a main.ts that exists', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const cmd = [...dockerfile.matchAll(/^CMD\s+(.+)$/gm)].pop()?.[1];
    expect(cmd).toBeDefined();
    const [node, main] = JSON.parse(cmd!) as string[];
    expect(node).toBe('node');
    expectInRepo(sourceOf(main));
  });
});
