import { CountyKPI, download, Fraction, get, KPIView, OverdueComplaint, OverdueHazard, PlanLine, PlanView, SelfCorrectionUnit } from '../api';
import { draw } from '../charts';
import { Key, num, pct, t } from '../i18n';
import { Route, setQuery } from '../router';
import { h, link, load, pager, table } from '../ui';
import { DrawListing, drawnFirms, drawsTable } from './draws';
import { countyName, counties } from './shared';

// The counties page's supervision planning sections, each from the
// planning jobs' current runs (api/openapi/planning.yaml): the county KPIs
// by month, the complaints overdue per county, special-equipment
// self-correction below 90 %, next year's spot-check plan and the draws.

const perPage = 20;

function offsetOf(r: Route, param: string): number {
  return Math.max(0, Number(r.query.get(param) ?? 0) || 0);
}

// page shows one page of rows held whole (the planning routes answer a
// job's outputs at once) with a pager that keeps its offset in the URL.
function page<T>(rows: T[], r: Route, param: string, size = perPage): { shown: T[]; pager: HTMLElement | string } {
  const offset = Math.min(offsetOf(r, param), Math.max(0, rows.length - 1));
  return {
    shown: rows.slice(offset, offset + size),
    pager: rows.length > size ? pager(offset - (offset % size), size, rows.length, (o) => setQuery({ [param]: o || null })) : '',
  };
}

function exports(path: string, params: Record<string, string>, name: string): HTMLElement {
  return h('div', { class: 'export' }, t('ls.export') + ': ',
    ...(['csv', 'xlsx'] as const).map((f) => h('button', { type: 'button', 'data-export': `${path}.${f}`, onclick: () => download(path, { ...params, format: f }, `${name}.${f}`) }, f.toUpperCase())));
}

function emptyState(box: HTMLElement, text = t('empty')): void {
  box.append(h('p', { class: 'state empty', 'data-state': 'empty' }, text));
}

function frac(f: Fraction): HTMLElement {
  return h('span', { title: `${num(f.num)} / ${num(f.den)}` }, f.value === null ? '–' : pct(f.value));
}

const countySelect = (id: string, value: string, param: string, resetParam: string): HTMLSelectElement =>
  h('select', { id, onchange: (e: Event) => setQuery({ [param]: (e.target as HTMLSelectElement).value, [resetParam]: null }) },
    h('option', { value: '' }, t('all')), ...counties.map(([c, n]) => h('option', { value: c, selected: c === value }, n)));

// --- KPIs ---------------------------------------------------------------------

const kpiFractions = ['coverage', 'complaint_timeliness', 'complaint_closure', 'hazard_correction', 'self_correction', 'late_reports', 'dead_letter_rate'] as const;
type KPIName = (typeof kpiFractions)[number];

// defaultMonth is the last complete month of the kpi run: its as_of's month
// when as_of is that month's last day, else the month before.
function defaultMonth(asOf: string, months: string[]): string {
  const [y, m, d] = asOf.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const back = new Date(Date.UTC(y, m - (d === last ? 1 : 2), 1));
  const want = `${back.getUTCFullYear()}-${String(back.getUTCMonth() + 1).padStart(2, '0')}`;
  return months.includes(want) ? want : months[months.length - 1] ?? '';
}

// kpiSection: each county bureau's KPIs of one month (?kpi_month=) and one
// KPI (?kpi=) by month for every county.
export async function kpiSection(box: HTMLElement, chart: HTMLElement, r: Route): Promise<void> {
  const kpi = (kpiFractions as readonly string[]).includes(r.query.get('kpi') ?? '') ? (r.query.get('kpi') as KPIName) : 'coverage';
  const view = get<KPIView>('/kpis');
  await Promise.all([
    load(box, () => view, (v) => {
      const months = [...new Set(v.kpis.map((k) => k.month))].sort();
      if (!months.length) return emptyState(box);
      const month = months.includes(r.query.get('kpi_month') ?? '') ? r.query.get('kpi_month')! : defaultMonth(v.run.as_of, months);
      const rows = v.kpis.filter((k) => k.month === month);
      box.append(
        h('div', { class: 'filters' },
          h('label', {}, t('month') + ' ', h('select', { id: 'kpi-month', onchange: (e: Event) => setQuery({ kpi_month: (e.target as HTMLSelectElement).value }) },
            ...months.map((m) => h('option', { value: m, selected: m === month }, m)))),
          h('span', { class: 'sub' }, `${t('co.run')} ${v.run.id} · ${t('asOf')} ${v.run.as_of}`),
          exports('/kpis', {}, `kpis-${v.run.as_of}`)),
        table<CountyKPI>([
          { title: t('county'), cell: (x) => countyName(x.county) },
          ...kpiFractions.map((k) => ({ title: t(`kpi.${k}` as Key), num: true, cell: (x: CountyKPI) => frac(x[k]) })),
          { title: t('kpi.delay'), num: true, cell: (x) => (x.mean_delay_seconds ? (x.mean_delay_seconds / 3600).toFixed(1) : '–') },
        ], rows),
      );
    }),
    load(chart, () => view, (v) => {
      const months = [...new Set(v.kpis.map((k) => k.month))].sort();
      const byCounty = new Map<string, Map<string, number | null>>();
      for (const k of v.kpis) {
        if (!byCounty.has(k.county)) byCounty.set(k.county, new Map());
        byCounty.get(k.county)!.set(k.month, k[kpi].value);
      }
      const series = [...byCounty].map(([c, ms]) => ({ name: countyName(c), type: 'line', connectNulls: false, data: months.map((m) => ms.get(m) ?? null) }));
      const points = v.kpis.filter((k) => k[kpi].value !== null).length;
      const pick = h('select', { id: 'kpi-chart', onchange: (e: Event) => setQuery({ kpi: (e.target as HTMLSelectElement).value }) },
        ...kpiFractions.map((k) => h('option', { value: k, selected: k === kpi }, t(`kpi.${k}` as Key))));
      chart.before(h('label', { class: 'chart-pick' }, t('co.kpiChart') + ' ', pick));
      draw(chart, {
        tooltip: { trigger: 'axis', valueFormatter: (x: number | null) => (x === null || x === undefined ? '–' : pct(x)) },
        legend: { top: 0, type: 'scroll' },
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: 'category', data: months },
        yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: (x: number) => pct(x) } },
        series,
      }, points);
    }),
  ]);
}

// --- complaints overdue ---------------------------------------------------------

// overdueSection: the complaints past their 7-day decision or 45-day
// closure deadline (有报必查、有查必果), counted per county and listed.
export async function overdueSection(box: HTMLElement, chart: HTMLElement, r: Route): Promise<void> {
  const county = r.query.get('oc_county') ?? '';
  const view = get<{ run: { as_of: string }; complaints: OverdueComplaint[] }>('/complaints/overdue');
  await Promise.all([
    load(chart, () => view, (v) => {
      if (!v.complaints.length) return emptyState(chart);
      const cs = [...new Set(v.complaints.map((c) => c.county))].sort();
      const count = (c: string, stage: string) => v.complaints.filter((x) => x.county === c && x.stage === stage).length;
      draw(chart, {
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: 'category', data: cs.map(countyName), axisLabel: { interval: 0 } },
        yAxis: { type: 'value' },
        series: (['decision', 'closure'] as const).map((s) => ({ name: t(`oc.${s}`), type: 'bar', stack: 'o', color: s === 'decision' ? '#ef6c00' : '#c62828', data: cs.map((c) => count(c, s)) })),
      }, v.complaints.length);
    }),
    load(box, () => view, (v) => {
      const rows = v.complaints.filter((c) => !county || c.county === county);
      const p = page(rows, r, 'oc_offset');
      box.append(
        h('div', { class: 'filters' }, h('label', {}, t('county') + ' ', countySelect('oc-county', county, 'oc_county', 'oc_offset')),
          h('span', { class: 'sub' }, t('oc.count', { n: num(rows.length), d: v.run.as_of })),
          exports('/complaints/overdue', county ? { county } : {}, `complaints-overdue-${v.run.as_of}`)),
        rows.length ? table<OverdueComplaint>([
          { title: t('county'), cell: (x) => countyName(x.county) },
          { title: t('oc.id'), cell: (x) => h('code', {}, x.complaint_id) },
          { title: t('uscc'), cell: (x) => (x.uscc ? link('/enterprises/' + x.uscc, h('code', {}, x.uscc)) : '') },
          { title: t('oc.stage'), cell: (x) => t(`oc.${x.stage}`) },
          { title: t('oc.since'), cell: (x) => x.since },
          { title: t('oc.deadline'), cell: (x) => x.deadline + (x.estimated ? ' *' : '') },
          { title: t('oc.late'), num: true, cell: (x) => h('span', { class: 'neg' }, num(x.working_days_late)) },
        ], p.shown) : h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')),
        p.pager,
      );
    }),
  ]);
}

// --- special equipment ----------------------------------------------------------

// equipmentSection: the using units whose self-correction rate (自查自纠率)
// is under 90 %, per county and listed, and the serious hazards open past
// their deadline.
export async function equipmentSection(box: HTMLElement, chart: HTMLElement, r: Route): Promise<void> {
  const view = get<{ run: { as_of: string }; units: SelfCorrectionUnit[]; overdue_hazards: OverdueHazard[] }>('/equipment/self-correction', { below: 'true' });
  await Promise.all([
    load(chart, () => view, (v) => {
      if (!v.units.length) return emptyState(chart);
      const cs = [...new Set(v.units.map((u) => u.county))].sort();
      draw(chart, {
        tooltip: { trigger: 'axis' },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: 'category', data: cs.map(countyName), axisLabel: { interval: 0 } },
        yAxis: { type: 'value', name: t('eq.units') },
        series: [{ name: t('eq.units'), type: 'bar', color: '#6a1b9a', data: cs.map((c) => v.units.filter((u) => u.county === c).length) }],
      }, v.units.length);
    }),
    load(box, () => view, (v) => {
      const p = page(v.units, r, 'eq_offset');
      box.append(
        h('p', { class: 'sub' }, t('eq.count', { n: num(v.units.length), d: v.run.as_of })),
        v.units.length ? table<SelfCorrectionUnit>([
          { title: t('uscc'), cell: (x) => link('/enterprises/' + x.uscc, h('code', {}, x.uscc)) },
          { title: t('county'), cell: (x) => countyName(x.county) },
          { title: t('eq.hazards'), num: true, cell: (x) => num(x.hazards) },
          { title: t('eq.self'), num: true, cell: (x) => num(x.self_corrected) },
          { title: t('eq.corrected'), num: true, cell: (x) => num(x.corrected) },
          { title: t('eq.open'), num: true, cell: (x) => num(x.open) },
          { title: t('eq.rate'), num: true, cell: (x) => h('span', { class: 'neg' }, pct(x.rate)) },
        ], p.shown) : h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')),
        p.pager,
        h('h3', {}, t('eq.overdue', { n: num(v.overdue_hazards.length) })),
        v.overdue_hazards.length ? table<OverdueHazard>([
          { title: t('eq.hazard'), cell: (x) => h('code', {}, x.hazard_id) },
          { title: t('uscc'), cell: (x) => link('/enterprises/' + x.uscc, h('code', {}, x.uscc)) },
          { title: t('county'), cell: (x) => countyName(x.county) },
          { title: t('eq.equipment'), cell: (x) => h('code', {}, x.equipment_id) },
          { title: t('oc.deadline'), cell: (x) => x.deadline },
          { title: t('eq.daysOver'), num: true, cell: (x) => h('span', { class: 'neg' }, num(x.days_overdue)) },
        ], v.overdue_hazards.slice(0, perPage)) : '',
      );
    }),
  ]);
}

// --- the plan -----------------------------------------------------------------------

// planSection: next year's spot-check plan (次年产品质量监督抽查计划) by
// quarter, each line with the rules and numbers behind it; CSV/XLSX export.
export async function planSection(box: HTMLElement, chart: HTMLElement, r: Route): Promise<void> {
  const view = get<PlanView>('/plan');
  await Promise.all([
    load(chart, () => view, (v) => {
      const top = [...v.lines].sort((a, b) => b.batches - a.batches || a.product.localeCompare(b.product)).slice(0, 15);
      if (!top.length) return emptyState(chart);
      draw(chart, {
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: 'value' },
        yAxis: { type: 'category', data: top.map((l) => l.product), inverse: true },
        series: [0, 1, 2, 3].map((q) => ({ name: `Q${q + 1}`, type: 'bar', stack: 'q', data: top.map((l) => l.quarters[q]) })),
      }, top.length);
    }),
    load(box, () => view, (v) => {
      const s = v.summary;
      const p = page(v.lines, r, 'plan_offset', 15);
      box.append(
        h('p', { class: 'sub', id: 'plan-summary' }, t('pl.summary', { y: s.year, b: num(s.batches), q: s.quarters.map(num).join(' / '), p: num(s.products ?? v.lines.length) }),
          ` · ${t('co.run')} ${v.run.id} · ${t('asOf')} ${v.run.as_of}`, s.from ? ` · ${t('pl.window')} ${s.from} – ${s.to}` : ''),
        exports('/plan', {}, `plan-${s.year}`),
        v.lines.length ? table<PlanLine>([
          { title: t('pl.product'), cell: (x) => h('strong', {}, x.product) },
          { title: t('industry'), cell: (x) => x.industry ?? '' },
          { title: t('checks'), num: true, cell: (x) => num(x.checks) },
          { title: t('failures'), num: true, cell: (x) => num(x.failures) },
          { title: t('pl.passRate'), num: true, cell: (x) => (x.pass_rate === undefined ? '–' : pct(x.pass_rate)) },
          { title: t('pl.batches'), num: true, cell: (x) => h('strong', {}, num(x.batches)) },
          { title: 'Q1–Q4', num: true, cell: (x) => x.quarters.join(' / ') },
          { title: t('pl.reasons'), cell: (x) => h('ul', { class: 'reasons' }, ...x.reasons.map((rs) => h('li', { title: rs.basis }, h('code', {}, rs.rule), ' ', rs.detail ?? ''))) },
        ], p.shown) : h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')),
        p.pager,
      );
    }),
  ]);
}

// --- the draws --------------------------------------------------------------------------

// drawsSection: every published draw with its status and files, and the
// drawn firms of one (?draw=, by default the latest drawn).
export async function drawsSection(box: HTMLElement, r: Route): Promise<void> {
  const detail = h('div', { id: 'draw-detail' });
  await load(box, () => get<{ draws: DrawListing[] }>('/public/draws'), async (b) => {
    box.append(drawsTable(b.draws, (id) => setQuery({ draw: id })), detail);
    const chosen = b.draws.find((d) => d.id === r.query.get('draw')) ?? b.draws.find((d) => d.status === 'drawn' && d.kind === 'inspection');
    if (chosen) await drawnFirms(detail, chosen.id, true);
  });
}
