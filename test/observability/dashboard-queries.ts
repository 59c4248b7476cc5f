import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DASHBOARD_FILE = join(ROOT, 'grafana', 'dashboards', 'agent-memory.json');
export const DATASOURCE_FILE = join(ROOT, 'grafana', 'provisioning', 'datasources', 'prometheus.yml');

interface Target {
  refId: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}
interface TemplateVariable {
  name: string;
  allValue?: string;
  current?: { value?: string | string[] };
}
export interface Dashboard {
  uid: string;
  panels: Panel[];
  templating?: { list: TemplateVariable[] };
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
  datasourceUid?: string;
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every PromQL target of every panel, including panels nested in collapsed rows. */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  return flat(dashboard.panels).flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => t.expr !== undefined)
      .map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr!, datasourceUid: t.datasource?.uid })),
  );
}

/**
 * The expression as Grafana would send it: its interval variables become `window`, and template variables
 * their current value. Written for Prometheus's HTTP API, where none of them exist.
 */
export function resolveVariables(expr: string, dashboard: Dashboard, window = '1m'): string {
  const values = new Map<string, string>([
    ['__rate_interval', window],
    ['__interval', window],
    ['__range', window],
  ]);
  for (const v of dashboard.templating?.list ?? []) {
    const value = [v.current?.value ?? []].flat();
    // Grafana sends a variable's allValue (a regex) when "All" is selected.
    values.set(v.name, value.includes('$__all') ? (v.allValue ?? '.*') : value.join('|'));
  }
  return expr.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a?: string, b?: string, c?: string) => values.get((a ?? b ?? c)!) ?? whole);
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric names an expression selects: identifiers that are not functions, keywords, labels or strings. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?!\s*\(|[\w:])/g)].map((m) => m[1]);
  return [...new Set(names.filter((n) => !KEYWORDS.has(n.toLowerCase())))];
}
