import { type Dashboard, dashboardQueries, metricNames, resolveVariables } from './dashboard-queries';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveTarget {
  /** job and instance (host:port) among them */
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/** The parts of Prometheus's HTTP API the observability tests read. */
export class PrometheusApi {
  constructor(readonly url: string) {}

  async query(promql: string): Promise<Sample[]> {
    return (await this.get<{ resultType: string; result: Sample[] }>(`/api/v1/query?${new URLSearchParams({ query: promql })}`, promql)).result;
  }

  /** The dashboard's expressions, as Grafana would send them, that return no finite value. */
  /** The dashboard's expressions that return no data, leaving out those of `skipMetrics`. */
  async expressionsWithoutData(dashboard: Dashboard, window = '1m', skipMetrics: readonly string[] = []): Promise<string[]> {
    const empty: string[] = [];
    for (const q of dashboardQueries(dashboard)) {
      if (metricNames(q.expr).some((name) => skipMetrics.includes(name))) continue;
      const promql = resolveVariables(q.expr, dashboard, window);
      if (!(await this.query(promql)).some((s) => Number.isFinite(Number(s.value[1])))) empty.push(`${q.panel} [${q.refId}]: ${promql}`);
    }
    return empty;
  }

  async activeTargets(): Promise<ActiveTarget[]> {
    return (await this.get<{ activeTargets: ActiveTarget[] }>('/api/v1/targets?state=active', 'targets')).activeTargets;
  }

  /** The configuration Prometheus runs with, as YAML. */
  async loadedConfig(): Promise<string> {
    return (await this.get<{ yaml: string }>('/api/v1/status/config', 'config')).yaml;
  }

  private async get<T>(path: string, what: string): Promise<T> {
    const body = (await (await fetch(`${this.url}${path}`)).json()) as { status: string; error?: string; data?: T };
    if (body.status !== 'success') throw new Error(`${what}: ${body.error}`);
    return body.data!;
  }
}
