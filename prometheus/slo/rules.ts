/**
 * The SLO rules from prometheus/slo/slos.yaml: the multiwindow, multi-burn-rate scheme of the SRE
 * workbook ("Alerting on SLOs"), with the rule names and labels Sloth gives them (slo:sli_error:…,
 * sloth_id, sloth_window, …), so that operators' Sloth dashboards and habits work on them. Sloth
 * itself is a Go binary that the project's CI cannot install (npm and Debian only), and the
 * scheme is short: generated here, by a pure function of the spec.
 */
import { stringify } from 'yaml';
import { z } from 'zod';

const promDuration = z.string().regex(/^\d+[mhd]$/, 'a duration such as 5m, 6h or 30d');

export const sloSpecSchema = z
  .object({
    service: z.string().regex(/^[a-z][a-z0-9-]*$/),
    period: promDuration,
    slos: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z][a-z0-9-]*$/),
            alert: z.string().regex(/^[A-Z][A-Za-z0-9]*$/),
            objective: z.number().gt(0).lt(100),
            description: z.string().min(1),
            errors: z.string().includes('{{window}}'),
            total: z.string().includes('{{window}}'),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type SloSpec = z.infer<typeof sloSpecSchema>;

/**
 * The workbook's table for a 30-day period: page when 2% of the budget goes in an hour (burn 14.4,
 * confirmed over 5 minutes) or 5% in 6 hours (6, over 30 minutes); open a ticket when 10% goes in
 * three days (1, over 6 hours) or in a day (3, over 2 hours).
 */
export const BURN_ALERTS = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'page', long: '6h', short: '30m', factor: 6 },
  { severity: 'ticket', long: '1d', short: '2h', factor: 3 },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1 },
] as const;
/** Every window an alert reads, shortest first. */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
const SEVERITY = { page: 'critical', ticket: 'warning' } as const;

const compact = (promql: string) => promql.replace(/\s+/g, ' ').trim();

/** prometheus/rules/mnist-slo.yml for `spec`, as YAML text. */
export function renderSloRules(spec: SloSpec, source = 'prometheus/slo/slos.yaml'): string {
  const days = Number(spec.period.slice(0, -1)) / { m: 1440, h: 24, d: 1 }[spec.period.at(-1) as 'm' | 'h' | 'd'];
  const groups = spec.slos.map((slo) => {
    const id = `${spec.service}-${slo.name}`;
    const labels = { sloth_id: id, sloth_service: spec.service, sloth_slo: slo.name };
    const selector = `sloth_id="${id}", sloth_service="${spec.service}", sloth_slo="${slo.name}"`;
    const budget = Number((1 - slo.objective / 100).toPrecision(6));
    const ratio = (window: string) =>
      `(${compact(slo.errors).replaceAll('{{window}}', window)}) / (${compact(slo.total).replaceAll('{{window}}', window)})`;
    const over = (window: string, factor: number) =>
      `max(slo:sli_error:ratio_rate${window}{${selector}} > (${factor} * ${budget})) without (sloth_window)`;
    const byId = 'on (sloth_id, sloth_slo, sloth_service) group_left';
    const alerts = (['page', 'ticket'] as const).map((severity) => ({
      alert: slo.alert,
      expr: BURN_ALERTS.filter((a) => a.severity === severity)
        .map((a) => `(${over(a.short, a.factor)} and ${over(a.long, a.factor)})`)
        .join(' or '),
      labels: { severity: SEVERITY[severity], sloth_severity: severity, ...labels },
      annotations: {
        summary: `The ${slo.name} error budget of ${spec.service} is burning fast enough to ${severity === 'page' ? 'page' : 'need a ticket'}`,
        // The alert's own value is whichever window matched: the description reads the last 5 minutes.
        description:
          `${slo.description} Objective ${slo.objective}% over ${spec.period}; the last 5 minutes failed ` +
          `{{ with printf "slo:sli_error:ratio_rate5m{sloth_id=\\"${id}\\"}" | query }}{{ . | first | value | humanizePercentage }}{{ end }} of events.`,
        runbook_url: `docs/operations.md#${slo.alert.toLowerCase()}`,
        dashboard: 'http://localhost:3000/d/mnist-cluster-overview',
      },
    }));
    // One group per SLO, unlike Sloth's three: rules of a group run in order at one evaluation, so
    // the alerts read the error ratios recorded at that same evaluation, not the previous one
    // (separate groups run in no fixed order).
    return {
      name: `sloth-slo-${id}`,
      rules: [
        ...WINDOWS.map((window) => ({
          record: `slo:sli_error:ratio_rate${window}`,
          expr: ratio(window),
          labels: { ...labels, sloth_window: window },
        })),
        {
          record: `slo:sli_error:ratio_rate${spec.period}`,
          expr:
            `sum_over_time(slo:sli_error:ratio_rate5m{${selector}}[${spec.period}])` +
            ` / ignoring (sloth_window) count_over_time(slo:sli_error:ratio_rate5m{${selector}}[${spec.period}])`,
          labels: { ...labels, sloth_window: spec.period },
        },
        { record: 'slo:objective:ratio', expr: `vector(${slo.objective / 100})`, labels },
        { record: 'slo:error_budget:ratio', expr: `vector(1 - ${slo.objective / 100})`, labels },
        { record: 'slo:time_period:days', expr: `vector(${days})`, labels },
        {
          record: 'slo:current_burn_rate:ratio',
          expr: `slo:sli_error:ratio_rate5m{${selector}} / ${byId} slo:error_budget:ratio{${selector}}`,
          labels,
        },
        {
          record: 'slo:period_burn_rate:ratio',
          expr: `slo:sli_error:ratio_rate${spec.period}{${selector}} / ${byId} slo:error_budget:ratio{${selector}}`,
          labels,
        },
        {
          record: 'slo:period_error_budget_remaining:ratio',
          expr: `1 - slo:period_burn_rate:ratio{${selector}}`,
          labels,
        },
        {
          record: 'sloth_slo_info',
          expr: 'vector(1)',
          labels: { ...labels, sloth_objective: String(slo.objective), sloth_mode: 'generated' },
        },
        ...alerts,
      ],
    };
  });
  return (
    `# Generated by \`npm run slo\` from ${source}; do not edit by hand (\`npm test\` fails when it is stale).\n` +
    stringify({ groups }, { lineWidth: 0 })
  );
}
