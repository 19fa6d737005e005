/**
 * A small typed builder for the Grafana dashboard JSON this project ships: panels declared by
 * title, description, unit and queries; placed left to right in rows of 24 grid units.
 */
export const DATASOURCE_UID = 'prometheus';
const DS = { type: 'prometheus', uid: '${datasource}' } as const;

export interface Query {
  expr: string;
  legend?: string;
  /** Instant query as a table (comparison tables, info panels). */
  table?: boolean;
}

export interface PanelSpec {
  type: 'timeseries' | 'stat' | 'table' | 'bargauge';
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  width: number;
  height?: number;
  /** Per-replica panel: every query keeps a `replica` label; tests check both replicas show. */
  perReplica?: boolean;
  stack?: boolean;
  options?: Record<string, unknown>;
  fieldConfig?: Record<string, unknown>;
  transformations?: unknown[];
}

export interface RowSpec {
  title: string;
  /** Repeat the row (and its panels) once per value of this variable. */
  repeat?: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: unknown[];
  rows: RowSpec[];
}

export const datasourceVariable = {
  name: 'datasource',
  label: 'Data source',
  type: 'datasource',
  query: 'prometheus',
  current: { text: 'Prometheus', value: DATASOURCE_UID },
  hide: 0,
};

export function queryVariable(name: string, label: string, query: string) {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    query: { query, refId: `${name}-values` },
    definition: query,
    refresh: 2,
    multi: true,
    includeAll: true,
    current: { text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
  };
}

function panelJson(spec: PanelSpec, id: number, x: number, y: number) {
  const targets = spec.queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    ...(q.table ? { instant: true, range: false, format: 'table' } : { range: true }),
  }));
  const custom =
    spec.type === 'timeseries'
      ? { custom: { stacking: { mode: spec.stack ? 'normal' : 'none' }, fillOpacity: spec.stack ? 30 : 10 } }
      : {};
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: DS,
    gridPos: { x, y, w: spec.width, h: spec.height ?? 8 },
    fieldConfig: { defaults: { unit: spec.unit, ...custom, ...(spec.fieldConfig ?? {}) }, overrides: [] },
    options:
      spec.options ??
      (spec.type === 'timeseries'
        ? {
            legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] },
            tooltip: { mode: 'multi' },
          }
        : {}),
    targets,
    ...(spec.transformations ? { transformations: spec.transformations } : {}),
  };
}

export function buildDashboard(spec: DashboardSpec) {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: 24, h: 1 },
      panels: [],
      ...(row.repeat ? { repeat: row.repeat } : {}),
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      if (x + panel.width > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panelJson(panel, id++, x, y));
      x += panel.width;
      rowHeight = Math.max(rowHeight, panel.height ?? 8);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: false,
    graphTooltip: 1,
    refresh: '5s',
    time: { from: 'now-15m', to: 'now' },
    templating: { list: spec.variables },
    annotations: { list: [] },
    panels,
  };
}

/** Every query of a dashboard spec with its panel, for tests and the compose check. */
export function queriesOf(spec: DashboardSpec): { panel: PanelSpec; query: Query }[] {
  return spec.rows.flatMap((row) => row.panels.flatMap((panel) => panel.queries.map((query) => ({ panel, query }))));
}
