import { Counties, County, get, Page } from '../api';
import { draw } from '../charts';
import { num, pct, t } from '../i18n';
import { Route, setQuery } from '../router';
import { card, chartBox, h, link, load, pager, table } from '../ui';
import { counties as countyList, items, str } from './shared';

interface ScoreItem {
  uscc: string;
  name: string;
  region: string;
  industry: string;
  score: number;
  grade: string;
}

// Counties (县区): each county bureau's indicators (records reported,
// reporting delay, dead-letter rate, complaints open and overdue), the
// planning KPIs, the plan and the draws. Filters: months.
export async function renderCounties(root: HTMLElement, r: Route): Promise<void> {
  const months = Number(r.query.get('months') ?? 12) || 12;
  const sel = h('select', { id: 'months', onchange: (e: Event) => setQuery({ months: (e.target as HTMLSelectElement).value }) },
    ...[3, 6, 12, 24, 36].map((m) => h('option', { value: m, selected: m === months }, String(m))));
  const tbl = h('div', { id: 'county-table' });
  const chart = chartBox('reporting', true);
  const firms = h('div', { id: 'firms' });
  const grade = r.query.get('grade') ?? 'D';
  const county = r.query.get('county') ?? '';
  const offset = Number(r.query.get('offset') ?? 0) || 0;
  const firmFilters = h('div', { class: 'filters' },
    h('label', {}, t('grade') + ' ', h('select', { id: 'firm-grade', onchange: (e: Event) => setQuery({ grade: (e.target as HTMLSelectElement).value, offset: null }) },
      ...['A', 'B', 'C', 'D'].map((g) => h('option', { value: g, selected: g === grade }, t(`grade.${g}` as Parameters<typeof t>[0]))))),
    h('label', {}, t('county') + ' ', h('select', { id: 'firm-county', onchange: (e: Event) => setQuery({ county: (e.target as HTMLSelectElement).value, offset: null }) },
      h('option', { value: '' }, t('all')), ...countyList.slice(1).map(([c, n]) => h('option', { value: c, selected: c === county }, n)))));
  const kpi = h('div', { id: 'kpi' });
  const plan = h('div', { id: 'plan' });
  const draws = h('div', { id: 'draws' });
  root.append(
    h('h1', {}, t('nav.counties')),
    card(t('co.indicators'), h('label', {}, t('co.months') + ' ', sel), tbl),
    card(t('co.reporting'), chart),
    card(t('co.firms'), firmFilters, firms),
    h('div', { class: 'grid' }, card(t('co.kpi'), kpi), card(t('co.plan'), plan), card(t('co.draws'), draws)),
  );
  const report = get<Counties>('/dashboard/counties', { months });
  const perPage = 20;
  await Promise.all([
    load(firms, () => get<Page<ScoreItem>>('/scores', { grade, region: county || undefined, limit: perPage, offset }), (p) => {
      firms.append(
        table<ScoreItem>([
          { title: t('name'), cell: (x) => link('/enterprises/' + x.uscc, x.name) },
          { title: t('uscc'), cell: (x) => h('code', {}, x.uscc) },
          { title: t('county'), cell: (x) => x.region },
          { title: t('industry'), cell: (x) => x.industry },
          { title: t('ent.score'), num: true, cell: (x) => String(x.score) },
        ], p.items),
        pager(offset, perPage, p.total, (o) => setQuery({ offset: o })),
      );
    }),
    load(tbl, () => report, (c) => {
      tbl.append(table<County>([
        { title: t('county'), cell: (x) => x.name || t('co.unknown') },
        { title: t('enterprises'), num: true, cell: (x) => num(x.enterprises) },
        { title: t('co.events'), num: true, cell: (x) => num(x.events) },
        { title: t('checks'), num: true, cell: (x) => num(x.spot_checks) },
        { title: t('rate'), num: true, cell: (x) => (x.spot_checks ? pct(x.spot_check_failures / x.spot_checks) : '–') },
        { title: t('co.delay'), num: true, cell: (x) => (x.mean_delay_hours === null ? '–' : x.mean_delay_hours.toFixed(1)) },
        { title: t('co.dead'), num: true, cell: (x) => num(x.dead_letters) },
        { title: t('co.deadRate'), num: true, cell: (x) => pct(x.dead_letter_rate) },
        { title: t('co.open'), num: true, cell: (x) => num(x.complaints_open) },
        { title: t('co.overdue'), num: true, cell: (x) => h('span', { class: x.complaints_overdue ? 'neg' : undefined }, num(x.complaints_overdue)) },
      ], c.counties));
    }),
    load(chart, () => report, (c) => {
      const ms = [...new Set(c.counties.flatMap((x) => x.months.map((m) => m.month)))].sort();
      const series = c.counties.filter((x) => x.county && x.months.length).map((x) => {
        const by = new Map(x.months.map((m) => [m.month, m.events]));
        return { name: x.name, type: 'line', data: ms.map((m) => by.get(m) ?? 0) };
      });
      draw(chart, {
        tooltip: { trigger: 'axis' },
        legend: { top: 0, type: 'scroll' },
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: 'category', data: ms },
        yAxis: { type: 'value' },
        series,
      }, series.length * ms.length);
    }),
    load(kpi, () => get<unknown>('/kpi/counties'), (b) => {
      const rows = items<Record<string, unknown>>(b, 'kpis');
      kpi.append(rows.length ? table<Record<string, unknown>>([
        { title: t('county'), cell: (x) => str(x, 'county') },
        { title: t('month'), cell: (x) => str(x, 'month') },
        { title: 'coverage', num: true, cell: (x) => frac(x, 'coverage') },
        { title: 'complaint_timeliness', num: true, cell: (x) => frac(x, 'complaint_timeliness') },
        { title: 'hazard_correction', num: true, cell: (x) => frac(x, 'hazard_correction') },
      ], rows.slice(-40)) : h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')));
    }),
    load(plan, () => get<unknown>('/plan'), (b) => {
      const rows = items<Record<string, unknown>>(b, 'lines');
      plan.append(rows.length ? table<Record<string, unknown>>([
        { title: 'product', cell: (x) => str(x, 'product') },
        { title: 'quarter', cell: (x) => str(x, 'quarter') },
        { title: 'batches', num: true, cell: (x) => str(x, 'batches') },
      ], rows.slice(0, 30)) : h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')));
    }),
    load(draws, () => get<unknown>('/public/draws'), (b) => {
      const rows = items<Record<string, unknown>>(b, 'draws');
      draws.append(rows.length ? table<Record<string, unknown>>([
        { title: 'id', cell: (x) => str(x, 'id') },
        { title: t('name'), cell: (x) => str(x, 'name') },
        { title: t('status'), cell: (x) => str(x, 'status') },
      ], rows) : h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')));
    }),
  ]);
}

function frac(x: Record<string, unknown>, k: string): string {
  const v = (x[k] as { value?: string | number | null } | undefined)?.value;
  return v === null || v === undefined ? '–' : pct(Number(v));
}
