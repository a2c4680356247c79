import { get, GradeBreakdown, Movement, Overview, Run, Trend } from '../api';
import { draw, gradeColors } from '../charts';
import { num, pct, t } from '../i18n';
import { Route, setQuery } from '../router';
import { card, chartBox, h, load, pager, table, time } from '../ui';
import { counties, items, levelColors, levels, str } from './shared';

const grades = ['A', 'B', 'C', 'D'] as const;

// Overview (总览): grades by county, industry and cluster; the movement
// between the last runs; the spot-check failure trend; warnings by level;
// list sizes; the last pipeline runs. Filters: by, offset, county.
export async function renderOverview(root: HTMLElement, r: Route): Promise<void> {
  const by = r.query.get('by') ?? 'county';
  const offset = Number(r.query.get('offset') ?? 0) || 0;
  const county = r.query.get('county') ?? '';
  const head = h('div', { class: 'kpis' });
  const gradesBox = chartBox('grades', true);
  const byNav = h(
    'div',
    { class: 'tabs' },
    ...(['county', 'industry', 'cluster'] as const).map((b) =>
      h('button', { type: 'button', class: b === by ? 'active' : undefined, 'data-by': b, onclick: () => setQuery({ by: b, offset: null }) },
        t(b === 'county' ? 'ov.byCounty' : b === 'industry' ? 'ov.byIndustry' : 'ov.byCluster')),
    ),
  );
  const gradesPager = h('div');
  const moveBox = chartBox('movement', true);
  const moveTitle = h('p', { class: 'sub' });
  const trendBox = chartBox('trend');
  const countySel = h(
    'select',
    { id: 'trend-county', onchange: (e: Event) => setQuery({ county: (e.target as HTMLSelectElement).value }) },
    h('option', { value: '' }, t('all')),
    ...counties.slice(1).map(([c, n]) => h('option', { value: c, selected: c === county }, n)),
  );
  const warnBox = chartBox('warnings');
  const listsBox = h('div');
  const runsBox = h('div');
  root.append(
    h('h1', {}, t('nav.overview')),
    head,
    h('div', { class: 'grid' },
      card(t('ov.grades'), byNav, gradesBox, gradesPager),
      card(t('ov.movement'), moveTitle, moveBox),
      card(t('ov.trend'), h('label', {}, t('county') + ' ', countySel), trendBox),
      card(t('ov.warnings'), warnBox),
      card(t('ov.lists'), listsBox),
      card(t('ov.runs'), runsBox),
    ),
  );
  const limit = by === 'cluster' ? 25 : 100;
  await Promise.all([
    load(head, () => get<Overview>('/dashboard/overview'), (o) => {
      head.append(
        kpi(t('enterprises'), num(o.enterprises)),
        kpi(t('scored'), num(o.scored), o.score_run ? t('asOf') + ' ' + o.score_run.as_of : ''),
        ...grades.map((g) => kpi(t(`grade.${g}`), num(o.grades[g]), '', gradeColors[g])),
        kpi(t('ov.checks12'), num(o.spot_checks), o.spot_checks ? t('rate') + ' ' + pct(o.spot_check_failures / o.spot_checks) : ''),
        kpi(t('ov.complaints'), num(o.complaints_open) + ' / ' + num(o.complaints_overdue)),
      );
      runsBox.replaceChildren(runsTable(o.runs));
    }),
    load(gradesBox, () => get<GradeBreakdown>('/dashboard/grades', { by, offset, limit }), (b) => {
      gradesPager.replaceChildren(b.total > limit ? pager(offset, limit, b.total, (o) => setQuery({ offset: o })) : '');
      const cats = b.items.map((g) => g.name || g.key);
      draw(gradesBox, {
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: 'value' },
        yAxis: { type: 'category', data: cats, inverse: true },
        dataZoom: cats.length > 20 ? [{ type: 'slider', yAxisIndex: 0, start: 0, end: 100 }] : [],
        series: grades.map((g) => ({ name: t(`grade.${g}`), type: 'bar', stack: 'g', color: gradeColors[g], data: b.items.map((x) => x.grades[g]) })),
      }, b.items.length);
    }),
    load(moveBox, () => get<Movement>('/dashboard/movement'), (m) => {
      moveTitle.textContent = m.from && m.to ? t('ov.movementFrom', { from: m.from.as_of, to: m.to.as_of }) : '';
      if (!m.flows.length) return emptyChart(moveBox);
      const before = (g: string) => (g === 'new' ? t('grade.new') : g + ' ' + (m.from?.as_of ?? ''));
      const after = (g: string) => g + ' ' + (m.to?.as_of ?? '');
      const names = new Set<string>();
      m.flows.forEach((f) => (names.add(before(f.from)), names.add(after(f.to))));
      draw(moveBox, {
        tooltip: { trigger: 'item' },
        series: [{
          type: 'sankey', left: 8, right: 80, nodeGap: 10, emphasis: { focus: 'adjacency' },
          data: [...names].map((n) => ({ name: n, itemStyle: { color: gradeColors[n[0]] ?? gradeColors.new } })),
          links: m.flows.map((f) => ({ source: before(f.from), target: after(f.to), value: f.count })),
          lineStyle: { color: 'gradient', opacity: 0.35 },
        }],
      }, m.flows.length);
    }),
    load(trendBox, () => get<Trend>('/dashboard/spot-checks', { county, months: 36 }), (tr) => {
      if (!tr.months.length) return emptyChart(trendBox);
      draw(trendBox, {
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: 'category', data: tr.months.map((m) => m.month) },
        yAxis: [{ type: 'value', name: t('checks') }, { type: 'value', name: t('rate'), axisLabel: { formatter: (v: number) => pct(v) } }],
        series: [
          { name: t('checks'), type: 'bar', color: '#90a4ae', data: tr.months.map((m) => m.checks) },
          { name: t('rate'), type: 'line', yAxisIndex: 1, color: '#c62828', data: tr.months.map((m) => m.rate) },
        ],
      }, tr.months.length);
    }),
    load(warnBox, () => get<unknown>('/clusters/warnings', { status: 'open', limit: 1000 }), (body) => {
      const ws = items<Record<string, unknown>>(body);
      const by = levels.map((l) => ({ name: t(`level.${l}`), value: ws.filter((w) => str(w, 'level') === l).length, itemStyle: { color: levelColors[l] } }));
      if (!ws.length) return emptyChart(warnBox);
      draw(warnBox, { tooltip: { trigger: 'item' }, legend: { bottom: 0 }, series: [{ type: 'pie', radius: ['40%', '70%'], data: by }] }, ws.length);
    }),
    listSizes(listsBox),
  ]);
}

function kpi(label: string, value: string, sub = '', color?: string): HTMLElement {
  return h('div', { class: 'kpi', style: color ? `border-top-color:${color}` : undefined }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), sub ? h('div', { class: 'sub' }, sub) : null);
}

function emptyChart(box: HTMLElement): void {
  box.replaceChildren(h('div', { class: 'state empty', 'data-state': 'empty' }, t('empty')));
}

function runsTable(runs: Run[]): HTMLElement {
  return table<Run>([
    { title: t('job'), cell: (r) => r.id },
    { title: t('asOf'), cell: (r) => r.as_of },
    { title: t('status'), cell: (r) => h('span', { class: 'status ' + r.status }, t(`status.${r.status}` as Parameters<typeof t>[0])) },
    { title: t('started'), cell: (r) => time(r.started_at) },
    { title: t('seconds'), num: true, cell: (r) => (r.finished_at ? ((Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000).toFixed(1) : '–') },
  ], runs);
}

async function listSizes(box: HTMLElement): Promise<void> {
  const rows = h('tbody');
  box.append(h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('nav.lists')), h('th', {}, t('ls.version')), h('th', { class: 'num' }, t('ls.count')), h('th', {}, t('ls.published')))), rows));
  await Promise.all(
    (['dishonest', 'focus'] as const).map(async (list) => {
      const cell = h('td', { colspan: 3 });
      const tr = h('tr', {}, h('td', {}, link2(list)), cell);
      rows.append(tr);
      // The latest version's header from the versions route: its size is
      // the manifest's count, no snapshot pulled.
      await load(cell, () => get<unknown>(`/partner/lists/${list}/versions`, { limit: 1 }), (b) => {
        const v = items<unknown>(b, 'versions')[0];
        tr.replaceChildren(h('td', {}, link2(list)), h('td', {}, str(v, 'version')), h('td', { class: 'num' }, num(Number(str(v, 'manifest', 'count')) || 0)), h('td', {}, time(str(v, 'published_at'))));
      });
    }),
  );
}

function link2(list: 'dishonest' | 'focus'): HTMLElement {
  return h('a', { href: `/lists?list=${list}`, 'data-link': true }, t(list === 'dishonest' ? 'ls.dishonest' : 'ls.focus'));
}
