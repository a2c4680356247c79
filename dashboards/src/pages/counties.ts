import { Counties, County, get, Page } from '../api';
import { draw } from '../charts';
import { num, pct, t } from '../i18n';
import { Route, setQuery } from '../router';
import { card, chartBox, h, link, load, pager, table } from '../ui';
import { decisionForm } from './decisions';
import { drawsSection, equipmentSection, kpiSection, overdueSection, planSection } from './planning';
import { counties as countyList } from './shared';

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
// planning KPIs by county and month, the complaints overdue, special
// equipment below 90 % self-correction, next year's plan and the draws.
// Filters: months, grade, county, offset; the planning sections' (see
// planning.ts): kpi, kpi_month, oc_county, oc_offset, eq_offset,
// plan_offset, draw.
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
  const kpiChart = chartBox('kpi', true);
  const overdue = h('div', { id: 'overdue' });
  const overdueChart = chartBox('overdue');
  const equipment = h('div', { id: 'equipment' });
  const equipmentChart = chartBox('self-correction');
  const plan = h('div', { id: 'plan' });
  const planChart = chartBox('plan', true);
  const draws = h('div', { id: 'draw-list' });
  const sections: [string, string][] = [['indicators', t('co.indicators')], ['kpis', t('co.kpi')], ['complaints', t('co.overdueTitle')],
    ['equipment', t('co.equipment')], ['plan', t('co.plan')], ['draws', t('co.draws')], ['firms', t('co.firms')]];
  root.append(
    h('h1', {}, t('nav.counties')),
    // In-page links scroll without touching the URL (a fragment would fire popstate and re-render).
    h('nav', { class: 'toc' }, ...sections.map(([id, title]) => h('a', { href: '#s-' + id, onclick: (e: Event) => (e.preventDefault(), document.getElementById('s-' + id)?.scrollIntoView()) }, title))),
    section('indicators', card(t('co.indicators'), h('label', {}, t('co.months') + ' ', sel), tbl), card(t('co.reporting'), chart)),
    section('kpis', card(t('co.kpi'), kpi, kpiChart)),
    section('complaints', card(t('co.overdueTitle'), overdueChart, overdue)),
    section('equipment', card(t('co.equipment'), equipmentChart, equipment)),
    section('plan', card(t('co.plan'), planChart, plan), card(t('dc.suggest'), h('p', { class: 'sub' }, t('dc.suggestHelp')),
      decisionForm({ name: 'plan-suggestion', type: 'plan.suggested', data: {}, submit: 'dc.submitSuggest', inputs: [
        { name: 'year', label: 'dc.year', kind: 'number', value: String(new Date().getFullYear() + 1), required: true },
        { name: 'product', label: 'dc.product', required: true },
        { name: 'batches', label: 'dc.batches', kind: 'number', required: true },
        { name: 'note', label: 'dc.note' },
      ] }))),
    section('draws', card(t('co.draws'), draws)),
    section('firms', card(t('co.firms'), firmFilters, firms)),
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
    kpiSection(kpi, kpiChart, r),
    overdueSection(overdue, overdueChart, r),
    equipmentSection(equipment, equipmentChart, r),
    planSection(plan, planChart, r),
    drawsSection(draws, r),
  ]);
}

function section(id: string, ...children: HTMLElement[]): HTMLElement {
  return h('div', { id: 's-' + id, class: 'section' }, ...children);
}
