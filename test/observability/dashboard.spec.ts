import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { METRIC_NAMES } from '@app/memory/metrics';
import { DATASOURCE_FILE, dashboardQueries, loadDashboard, metricNames, resolveVariables } from './dashboard-queries';

// The series a prom-client histogram exposes besides its name.
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

function knownMetrics(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // `up` is Prometheus's own per-target series.
  return new Set([...Object.values(METRIC_NAMES), ...registry.getMetricsAsArray().map((m) => m.name), 'up']);
}

/** The exported metric a series name belongs to (`x_bucket` -> `x`). */
function baseName(series: string, known: Set<string>): string | undefined {
  if (known.has(series)) return series;
  const suffix = HISTOGRAM_SUFFIXES.find((s) => series.endsWith(s) && known.has(series.slice(0, -s.length)));
  return suffix && series.slice(0, -suffix.length);
}

describe('grafana/dashboards/agent-memory.json', () => {
  const dashboard = loadDashboard();
  const queries = dashboardQueries(dashboard);
  const known = knownMetrics();

  it('reads only metrics the services export (a renamed metric fails here)', () => {
    const unknown = queries.flatMap((q) => metricNames(q.expr).filter((n) => !baseName(n, known)).map((n) => `${q.panel}: ${n}`));
    expect(queries.length).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });

  it('shows every metric of METRIC_NAMES', () => {
    const used = new Set(queries.flatMap((q) => metricNames(q.expr).map((n) => baseName(n, known))));
    expect(Object.values(METRIC_NAMES).filter((name) => !used.has(name))).toEqual([]);
  });

  it('has P50, P95, P99 and P99.9 of the operation histogram, per operation, for the endpoints chosen', () => {
    const exprs = queries.map((q) => q.expr);
    for (const q of ['0.5', '0.95', '0.99', '0.999']) {
      expect(exprs).toContain(
        `histogram_quantile(${q}, sum by (le, operation) (rate(${METRIC_NAMES.operationDuration}_bucket{endpoint=~"$endpoint"}[$__rate_interval])))`,
      );
    }
    expect(exprs).toContain(
      `histogram_quantile(0.99, sum by (le, endpoint, operation) (rate(${METRIC_NAMES.operationDuration}_bucket{endpoint=~"$endpoint"}[$__rate_interval])))`,
    );
  });

  it('offers every endpoint, all of them by default', () => {
    const variable = dashboard.templating?.list.find((v) => v.name === 'endpoint');
    expect(variable).toMatchObject({ includeAll: true, allValue: '.*', current: { value: ['$__all'] } });
    expect(resolveVariables('x{endpoint=~"$endpoint"}', dashboard)).toBe('x{endpoint=~".*"}');
  });

  it('counts the replicas up of each service', () => {
    const exprs = queries.map((q) => q.expr);
    for (const job of ['api', 'embedder', 'retriever', 'extractor']) expect(exprs).toContain(`count(up{job="${job}"} == 1)`);
  });

  it('queries the provisioned datasource by uid', () => {
    const provisioned = /^\s*uid:\s*(\S+)/m.exec(readFileSync(DATASOURCE_FILE, 'utf8'))?.[1];
    expect(provisioned).toBe('prometheus');
    expect(queries.filter((q) => q.datasourceUid !== provisioned)).toEqual([]);
  });

  it('leaves no variable unresolved for Prometheus', () => {
    expect(queries.map((q) => resolveVariables(q.expr, dashboard)).filter((e) => e.includes('$'))).toEqual([]);
  });
});

describe('metricNames', () => {
  it('finds selected metrics and skips functions, keywords, labels, strings and durations', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{status=~"5..", x="b_total"}[5m] offset 1m))) / on (route) group_left sum(b_total) or vector(1e3)',
      ),
    ).toEqual(['a_bucket', 'b_total']);
  });

  it('resolves Grafana interval variables and template variables', () => {
    const dashboard = { uid: 'd', panels: [], templating: { list: [{ name: 'queue', current: { value: ['embed', 'retrieve'] } }] } };
    expect(resolveVariables('rate(x{queue=~"$queue"}[$__rate_interval]) + rate(y[${__interval}])', dashboard, '2m')).toBe(
      'rate(x{queue=~"embed|retrieve"}[2m]) + rate(y[2m])',
    );
  });
});
