/**
 * Checks the monitoring shipped under deploy/ against the real tools: promtool
 * validates the Prometheus config and alert rules and runs the alert unit
 * tests, and a throwaway Prometheus (empty TSDB, loopback port) parses every
 * query of the Grafana dashboard.
 *
 * Needs `promtool` and `prometheus` on PATH (Debian: `apt-get install -y prometheus`).
 * Without them the tests fail rather than skip, so a missing install is never
 * mistaken for a pass.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parse } from 'yaml';

const deployDir = resolve(__dirname, '../../deploy');
const prometheusDir = join(deployDir, 'prometheus');
const dashboardFile = join(deployDir, 'grafana/hookrunner.json');

/** Grafana replaces these before a query reaches Prometheus; any value of the right kind will do for parsing. */
const grafanaMacros: Record<string, string> = {
  $__rate_interval: '1m',
  $__interval: '15s',
  $__range: '1h',
};

function findOnPath(binary: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `${binary} is not on PATH. Install the Debian "prometheus" package, which provides ` +
      'promtool and prometheus: apt-get update && apt-get install -y prometheus',
  );
}

/** Runs a promtool subcommand; a non-zero exit fails with promtool's own report. */
function promtool(args: string[]): string {
  const bin = findOnPath('promtool');
  try {
    return execFileSync(bin, args, { cwd: prometheusDir, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const { status, stdout, stderr } = error as { status: number | null; stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} exited with ${status}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

function readYaml<T>(file: string): T {
  return parse(readFileSync(join(prometheusDir, file), 'utf8')) as T;
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string }[] }[];
}
interface RuleTestFile {
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}
interface ScrapeConfigFile {
  rule_files?: string[];
  scrape_configs: { job_name: string }[];
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; refId: string }[];
  panels?: Panel[];
}

function dashboardQueries(): { panel: string; refId: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: Panel[] };
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  return panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, refId: target.refId, expr: target.expr ?? '' })),
  );
}

function expandGrafanaMacros(expr: string): string {
  return expr.replace(/\$__\w+/g, (macro) => grafanaMacros[macro] ?? macro);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => server.once('error', fail).listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function pollUntil(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((next) => setTimeout(next, 100));
  }
  throw new Error(`timed out after ${deadlineMs}ms waiting for ${what}`);
}

describe('deploy/prometheus', () => {
  it('prometheus.yml passes promtool check config', () => {
    expect(promtool(['check', 'config', 'prometheus.yml'])).toContain('SUCCESS');
  });

  it('alerts.yml passes promtool check rules', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'])).toContain('SUCCESS');
  });

  it('alerts.test.yml passes promtool test rules', () => {
    expect(promtool(['test', 'rules', 'alerts.test.yml'])).toContain('SUCCESS');
  });

  it('scrapes every role the alerts refer to and loads alerts.yml', () => {
    const config = readYaml<ScrapeConfigFile>('prometheus.yml');

    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(config.scrape_configs.map((job) => job.job_name)).toEqual(
      expect.arrayContaining(['hookrunner-api', 'hookrunner-worker', 'hookrunner-results']),
    );
  });

  it('tests every alert both firing and staying quiet', () => {
    const alerts = readYaml<RuleFile>('alerts.yml')
      .groups.flatMap((group) => group.rules)
      .flatMap((rule) => (rule.alert ? [rule.alert] : []));
    const cases = readYaml<RuleTestFile>('alerts.test.yml').tests.flatMap((test) => test.alert_rule_test ?? []);

    const coverage = alerts.map((alert) => {
      const own = cases.filter((c) => c.alertname === alert);
      return {
        alert,
        fires: own.some((c) => (c.exp_alerts ?? []).length > 0),
        staysQuiet: own.some((c) => (c.exp_alerts ?? []).length === 0),
      };
    });

    expect(alerts.length).toBeGreaterThan(0);
    expect(coverage).toEqual(alerts.map((alert) => ({ alert, fires: true, staysQuiet: true })));
  });
});

describe('deploy/grafana/hookrunner.json', () => {
  const queries = dashboardQueries();
  let prometheus: ChildProcess | undefined;
  let workDir: string | undefined;
  let baseUrl = '';

  beforeAll(async () => {
    const bin = findOnPath('prometheus');
    workDir = mkdtempSync(join(tmpdir(), 'hookrunner-prometheus-'));
    // No scrape jobs: the server is only here to parse queries.
    writeFileSync(join(workDir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;

    let log = '';
    let exited: string | undefined;
    const child = spawn(
      bin,
      [
        `--config.file=${join(workDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(workDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus = child;
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));

    try {
      await pollUntil(`Prometheus on ${baseUrl} to be ready`, 30_000, async () => {
        if (exited) throw new Error(`prometheus ${exited} before becoming ready`);
        const ready = await fetch(`${baseUrl}/-/ready`).catch(() => undefined);
        return ready?.status === 200;
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- prometheus log ---\n${log}`);
    }
  }, 40_000);

  afterAll(async () => {
    const child = prometheus;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 15_000);

  it('has queries, each using only macros the test knows how to expand', () => {
    expect(queries.length).toBeGreaterThan(0);
    const unexpanded = queries.filter((q) => !q.expr || expandGrafanaMacros(q.expr).includes('$'));
    expect(unexpanded).toEqual([]);
  });

  it('takes its data source from the datasource variable on every panel', () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: Panel[] };
    const offending = dashboard.panels
      .filter((panel) => panel.type !== 'row')
      .filter((panel) => panel.datasource?.uid !== '${datasource}')
      .map((panel) => panel.title);
    expect(offending).toEqual([]);
  });

  it.each(queries)('$panel ($refId) is a query Prometheus accepts', async ({ expr }) => {
    const query = expandGrafanaMacros(expr);
    const response = await fetch(`${baseUrl}/api/v1/query?${new URLSearchParams({ query }).toString()}`);
    const body = (await response.json()) as { status: string; error?: string };

    expect({ query, ...body }).toMatchObject({ query, status: 'success' });
  });
});
