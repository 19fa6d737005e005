/**
 * The project's dashboards are declared as specs (panels by title, description, unit, queries,
 * alert thresholds and table columns, in rows of 24 grid units) and built into Grafana's JSON
 * model by the Grafana Foundation SDK's typed builders, so every option, override, threshold,
 * link and annotation is checked against Grafana's own schema by the compiler.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export const DATASOURCE_UID = 'prometheus';
const DS: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Query {
  expr: string;
  legend?: string;
  /** Instant query as a table (comparison tables, info panels). */
  table?: boolean;
}

/** A line drawn where an alert fires: `alert` names the rule in prometheus/rules/mnist-alerts.yml. */
export interface AlertThreshold {
  value: number;
  alert: string;
}

/** A table column: the field the queries produce (a label, or `Value #A` for query A), shown as `name` in `unit`. */
export interface Column {
  field: string;
  name: string;
  unit: string;
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
  /** Data only on a Swarm (its engines' metrics): the Swarm tier checks it answers, compose's does not. */
  swarmOnly?: boolean;
  stack?: boolean;
  /** Alert thresholds, drawn as dashed lines on a time series. */
  thresholds?: AlertThreshold[];
  /** A table's columns, in order, each with its unit; other fields of its queries are hidden. */
  columns?: Column[];
  /** Shown values, such as 0/1 as DOWN/UP. */
  mappings?: dashboard.ValueMapping[];
  decimals?: number;
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
  variables: dashboard.QueryVariableBuilder[];
  /** Other dashboards (by uid) and pages a reader goes to next. */
  links: { title: string; url: string; tooltip: string }[];
  /** Events drawn across every time series: a PromQL expression whose series mark when. */
  annotations: { name: string; expr: string; text: string; color: string }[];
  rows: RowSpec[];
}

/** A 0/1 series shown as DOWN (red) or UP (green). */
export const UP_DOWN: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.ValueToText,
    options: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'UP', color: 'green' } },
  },
];

export function queryVariable(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DS)
    .query({ query, refId: `${name}-values` })
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .current({ text: ['All'], value: ['$__all'] })
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

function target(query: Query, index: number): prometheus.DataqueryBuilder {
  const builder = new prometheus.DataqueryBuilder()
    .refId(String.fromCharCode(65 + index))
    .datasource(DS)
    .expr(query.expr)
    .legendFormat(query.legend ?? '__auto');
  return query.table ? builder.instant().format(prometheus.PromQueryFormat.Table) : builder.range();
}

/** Green below the first alert threshold, red from it on. */
function steps(thresholds: AlertThreshold[] = []): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: 'green' }, ...thresholds.map((t) => ({ value: t.value, color: 'red' }))]);
}

function timeseriesPanel(spec: PanelSpec): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .stacking(
      new common.StackingConfigBuilder().mode(spec.stack ? common.StackingMode.Normal : common.StackingMode.None),
    )
    .fillOpacity(spec.stack ? 30 : 10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.None))
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        spec.thresholds ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off,
      ),
    );
}

const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

function tablePanel(spec: PanelSpec): table.PanelBuilder {
  const columns = spec.columns ?? [];
  const builder = new table.PanelBuilder().showHeader(true).cellHeight(common.TableCellHeight.Sm);
  // Several instant queries become one row per replica; then the columns are chosen and named.
  if (spec.queries.length > 1) builder.withTransformation({ id: 'merge', options: {} });
  builder.withTransformation({
    id: 'organize',
    options: {
      excludeByName: {},
      includeByName: Object.fromEntries(columns.map((c) => [c.field, true])),
      indexByName: Object.fromEntries(columns.map((c, i) => [c.field, i])),
      renameByName: Object.fromEntries(columns.filter((c) => c.name !== c.field).map((c) => [c.field, c.name])),
    },
  });
  for (const column of columns) builder.overrideByName(column.name, [{ id: 'unit', value: column.unit }]);
  return builder;
}

function panel(spec: PanelSpec, id: number, gridPos: dashboard.GridPos) {
  const builder =
    spec.type === 'timeseries'
      ? timeseriesPanel(spec)
      : spec.type === 'table'
        ? tablePanel(spec)
        : spec.type === 'stat'
          ? new stat.PanelBuilder()
              .colorMode(common.BigValueColorMode.Background)
              .graphMode(common.BigValueGraphMode.None)
              .reduceOptions(lastValue())
          : new bargauge.PanelBuilder()
              .orientation(common.VizOrientation.Horizontal)
              .displayMode(common.BarGaugeDisplayMode.Gradient)
              .reduceOptions(lastValue());
  builder
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DS)
    .gridPos(gridPos)
    .unit(spec.unit)
    .thresholds(steps(spec.thresholds))
    .targets(spec.queries.map(target));
  if (spec.mappings) builder.mappings(spec.mappings);
  if (spec.decimals !== undefined) builder.decimals(spec.decimals);
  return builder;
}

export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(spec.tags)
    .timezone('browser')
    .readonly()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('5s')
    .time({ from: 'now-15m', to: 'now' })
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource')
        .label('Data source')
        .type('prometheus')
        .current({ text: 'Prometheus', value: DATASOURCE_UID }),
    );
  for (const variable of spec.variables) builder.withVariable(variable);
  for (const link of spec.links) {
    builder.link(
      new dashboard.DashboardLinkBuilder(link.title)
        .type(dashboard.DashboardLinkType.Link)
        .url(link.url)
        .tooltip(link.tooltip)
        .icon(link.url.startsWith('/d/') ? 'dashboard' : 'external link')
        .keepTime(link.url.startsWith('/d/'))
        .includeVars(false)
        .targetBlank(!link.url.startsWith('/d/')),
    );
  }
  for (const a of spec.annotations) {
    builder.annotation(
      new dashboard.AnnotationQueryBuilder()
        .name(a.name)
        .datasource(DS)
        .enable(true)
        .iconColor(a.color)
        .expr(a.expr)
        .step('10s')
        .titleFormat(a.name)
        .textFormat(a.text),
    );
  }
  // Rows of 24 grid units: a panel that does not fit on the line starts the next one.
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    const rowBuilder = new dashboard.RowBuilder(row.title).id(id++).gridPos({ x: 0, y, w: 24, h: 1 });
    if (row.repeat) rowBuilder.repeat(row.repeat);
    builder.withRow(rowBuilder);
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      if (x + p.width > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      const h = p.height ?? 8;
      builder.withPanel(panel(p, id++, { x, y, w: p.width, h }));
      x += p.width;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return builder.build();
}

/** Every query of a dashboard spec with its panel, for tests and the compose check. */
export function queriesOf(spec: DashboardSpec): { panel: PanelSpec; query: Query }[] {
  return spec.rows.flatMap((row) => row.panels.flatMap((panel) => panel.queries.map((query) => ({ panel, query }))));
}
