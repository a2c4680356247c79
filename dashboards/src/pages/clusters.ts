import { ApiError, get, GradeBreakdown, openDocument } from '../api';
import { draw } from '../charts';
import { num, pct, t } from '../i18n';
import { Route, setQuery } from '../router';
import { card, chartBox, h, load, pager, state, table } from '../ui';
import { decisionForm } from './decisions';
import { counties, field, items, levelColors, levels, str } from './shared';

type Warning = Record<string, unknown>;
const warningsPerPage = 20;

// Clusters (产业集聚区): the county × industry heat map of risk, the funnel
// plot of a division with its limits, the warnings with their evidence,
// history and letter. Filters: division, level, offset, warning.
export async function renderClusters(root: HTMLElement, r: Route): Promise<void> {
  const level = r.query.get('level') ?? '';
  const offset = Number(r.query.get('offset') ?? 0) || 0;
  const heat = chartBox('heatmap', true);
  const heatTitle = h('p', { class: 'sub' });
  const funnel = chartBox('funnel', true);
  const divInput = h('input', { id: 'division', value: r.query.get('division') ?? '', size: 5, placeholder: 'C13', onchange: (e: Event) => setQuery({ division: (e.target as HTMLInputElement).value.trim().toUpperCase() }) });
  const levelSel = h(
    'select',
    { id: 'level', onchange: (e: Event) => setQuery({ level: (e.target as HTMLSelectElement).value, offset: null }) },
    h('option', { value: '' }, t('all')),
    ...levels.map((l) => h('option', { value: l, selected: l === level }, t(`level.${l}`))),
  );
  const warnBox = h('div', { id: 'warnings' });
  root.append(
    h('h1', {}, t('nav.clusters')),
    card(t('cl.heatmap'), heatTitle, heat),
    card(t('cl.funnel'), h('label', {}, t('cl.division') + ' ', divInput), funnel),
    card(t('cl.warnings'), h('label', {}, t('cl.level') + ' ', levelSel), warnBox),
  );
  // The division of the funnel: the URL's, else the riskiest of the heat map.
  let pickDivision: (d: string) => void = () => {};
  const division = r.query.get('division') ? Promise.resolve(r.query.get('division')!) : new Promise<string>((res) => (pickDivision = res));
  await Promise.all([
    heatMap(heat, heatTitle).then((d) => pickDivision(d || 'C13')),
    division.then((d) => {
      divInput.value = d;
      return load(funnel, () => get<unknown>(`/clusters/funnels/${encodeURIComponent(d)}`), (fp) => drawFunnel(funnel, fp));
    }),
    load(warnBox, () => get<unknown>('/clusters/warnings', { status: 'open', level, offset, limit: warningsPerPage }), (body) => {
      const ws = items<Warning>(body);
      const total = Number(field(body, 'total')) || ws.length;
      if (!ws.length) return void warnBox.append(h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')));
      warnBox.append(
        ...ws.map(warningCard),
        total > warningsPerPage ? pager(offset, warningsPerPage, total, (o) => setQuery({ offset: o })) : '',
      );
    }),
  ]);
}

// heatMap draws the county × division map of the clusters job (failure
// rates, /clusters/heatmap) where the server has it, else the share of C/D
// firms from the grades; it returns the riskiest cell's division.
async function heatMap(box: HTMLElement, title: HTMLElement): Promise<string> {
  const names = new Map(counties);
  let riskiest = '';
  const render = (cells: { county: string; division: string; value: number; n: number; label: string; level?: string }[]) => {
    const cs = [...new Set(cells.map((c) => c.county))].sort();
    const ds = [...new Set(cells.map((c) => c.division))].sort();
    // The riskiest: the highest warning level, then the highest value.
    const rank = (l?: string) => (l ? levels.length - levels.indexOf(l as (typeof levels)[number]) : 0);
    riskiest = [...cells].sort((a, b) => rank(b.level) - rank(a.level) || b.value - a.value)[0]?.division ?? '';
    const data = cells.map((c) => [ds.indexOf(c.division), cs.indexOf(c.county), +c.value.toFixed(3), c.n, c.label]);
    draw(box, {
      tooltip: { formatter: (p: { data: (number | string)[] }) => `${names.get(cs[+p.data[1]]) ?? cs[+p.data[1]]} ${ds[+p.data[0]]}<br>${p.data[4]} ${pct(+p.data[2])} · n=${num(+p.data[3])}` },
      grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
      xAxis: { type: 'category', data: ds, splitArea: { show: true } },
      yAxis: { type: 'category', data: cs.map((c) => names.get(c) ?? c), splitArea: { show: true } },
      // dimension 2: the value (the items carry n and a label after it).
      visualMap: { dimension: 2, min: 0, max: Math.max(0.2, ...cells.map((c) => c.value)), precision: 2, calculable: true, orient: 'horizontal', left: 'center', bottom: 0,
        formatter: (v: number) => pct(v), inRange: { color: ['#c8e6c9', '#fff176', '#ef6c00', '#b71c1c'] } },
      series: [{ type: 'heatmap', data, emphasis: { itemStyle: { borderColor: '#333', borderWidth: 1 } } }],
    }, data.length);
  };
  try {
    const body = await get<unknown>('/clusters/heatmap');
    const cells = items<Record<string, unknown>>(body, 'cells').filter((c) => Number(c.n) > 0);
    title.textContent = t('cl.heatRate');
    box.replaceChildren();
    if (!cells.length) return void box.replaceChildren(h('div', { class: 'state empty', 'data-state': 'empty' }, t('empty'))), '';
    render(cells.map((c) => ({ county: str(c, 'county'), division: str(c, 'division'), value: Number(c.rate), n: Number(c.n), label: t('rate'), level: str(c, 'level') })));
    return riskiest;
  } catch (e) {
    if (!(e instanceof ApiError && e.unavailable)) {
      state(box, 'error', e instanceof Error ? e.message : String(e));
      return '';
    }
  }
  title.textContent = t('cl.heatShare');
  await load(box, () => get<GradeBreakdown>('/dashboard/grades', { by: 'county_industry', limit: 1000 }), (b) => {
    render(b.items.filter((g) => g.total - g.unscored > 0).map((g) => ({ county: g.county!, division: g.industry!, value: g.risk_share, n: g.total, label: 'C/D' })));
  });
  return riskiest;
}

function drawFunnel(box: HTMLElement, fp: unknown): void {
  const pts = items<Record<string, number | string>>(fp, 'points');
  const lim = items<Record<string, number>>(fp, 'limits');
  if (!pts.length) return void box.replaceChildren(h('div', { class: 'state empty', 'data-state': 'empty' }, t('empty')));
  const line = (k: string) => lim.map((l) => [l.n, l[k]]);
  draw(box, {
    tooltip: { trigger: 'item', formatter: (p: { data: (string | number)[] }) => `${p.data[2] ?? ''}<br>n=${p.data[0]} · ${pct(Number(p.data[1]))}` },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'value', name: 'n' },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => pct(v) } },
    series: [
      { name: t('cluster'), type: 'scatter', data: pts.map((p) => [p.n, p.rate, p.cluster, p.level]), itemStyle: { color: (p: { data: string[] }) => levelColors[p.data[3]] ?? '#546e7a' } },
      { name: t('cl.baseline'), type: 'line', showSymbol: false, color: '#333', data: line('p0') },
      { name: t('cl.limit95'), type: 'line', showSymbol: false, color: '#f9a825', data: line('high_95'), lineStyle: { type: 'dashed' } },
      { name: t('cl.limit998'), type: 'line', showSymbol: false, color: '#c62828', data: line('high_998'), lineStyle: { type: 'dashed' } },
    ],
  }, pts.length);
}

// letterLink opens a warning letter (质量风险提示函) with the analyst's key.
function letterLink(path: string): HTMLElement {
  return h('a', { href: path, class: 'letter', onclick: (e: Event) => {
    e.preventDefault();
    openDocument(path).catch((err) => alert(t('error') + ': ' + (err instanceof Error ? err.message : String(err))));
  } }, t('cl.letter'));
}

function warningCard(w: Warning): HTMLElement {
  const ev = field(w, 'assessment', 'evidence') as Record<string, unknown> | undefined;
  const id = str(w, 'id');
  const top = items<Record<string, unknown>>(field(ev, 'top'));
  const hist = items<Record<string, unknown>>(field(w, 'history'));
  const lv = str(w, 'level');
  return h(
    'details',
    { class: 'warning', 'data-warning': id, 'data-raised': str(w, 'raised_on') },
    h('summary', {}, h('span', { class: 'badge', style: `background:${levelColors[lv] ?? '#777'}` }, t(`level.${lv}` as Parameters<typeof t>[0])), ' ', str(w, 'cluster'), ' · ', str(w, 'county'), ' ', str(w, 'division'), ' · ', str(w, 'raised_on'),
      ' ', str(w, 'letter') ? letterLink(str(w, 'letter')) : null),
    h('h3', {}, t('cl.evidence')),
    h('p', {}, `n=${str(ev, 'n')} x=${str(ev, 'x')} m=${str(ev, 'm')} p̂=${pct(Number(str(ev, 'rate')))} p0=${pct(Number(str(ev, 'p0')))} z=${Number(str(ev, 'z')).toFixed(2)} φ=${Number(str(ev, 'phi')).toFixed(2)} z'=${Number(str(ev, 'z_adjusted')).toFixed(2)} · ${str(ev, 'limit')} · CUSUM ${Number(str(ev, 'cusum', 'final')).toFixed(2)}/${str(ev, 'cusum', 'h')}`),
    top.length ? table<Record<string, unknown>>([
      { title: t('name'), cell: (x) => h('a', { href: '/enterprises/' + str(x, 'uscc'), 'data-link': true }, str(x, 'name') || str(x, 'uscc')) },
      { title: t('checks'), num: true, cell: (x) => str(x, 'checks') },
      { title: t('failures'), num: true, cell: (x) => str(x, 'failures') },
    ], top) : null,
    h('h3', {}, t('cl.history')),
    table<Record<string, unknown>>([
      { title: t('asOf'), cell: (x) => str(x, 'as_of') },
      { title: '', cell: (x) => str(x, 'change') },
      { title: t('cl.level'), cell: (x) => `${str(x, 'from')} → ${str(x, 'to')}` },
    ], hist),
    warningDecisions(w),
  );
}

// warningDecisions shows a warning's acknowledgement and actions, and the
// forms that record them (as of the next clusters run).
function warningDecisions(w: Warning): HTMLElement {
  const id = str(w, 'id');
  const ack = field(w, 'acknowledgement');
  const actions = items<Record<string, unknown>>(field(w, 'actions'));
  return h(
    'div',
    { class: 'decisions' },
    h('h3', {}, t('dc.title')),
    h('p', { class: 'ack', 'data-acknowledged': ack ? 'true' : 'false' },
      ack ? t('dc.acknowledged', { who: str(ack, 'analyst'), at: str(ack, 'at').slice(0, 10), level: t(`level.${str(ack, 'level')}` as Parameters<typeof t>[0]) })
        : field(w, 'needs_acknowledgement') ? t('dc.needsAck') : ''),
    actions.length ? table<Record<string, unknown>>([
      { title: t('dc.actionText'), cell: (a) => str(a, 'action') },
      { title: t('dc.analyst'), cell: (a) => str(a, 'analyst') },
      { title: t('dc.at'), cell: (a) => str(a, 'at').slice(0, 10) },
      { title: t('dc.note'), cell: (a) => str(a, 'note') },
    ], actions) : null,
    decisionForm({ name: 'acknowledge', type: 'warning.acknowledged', data: { warning_id: id }, submit: 'dc.ack',
      inputs: [{ name: 'analyst', label: 'dc.analyst' }, { name: 'note', label: 'dc.note' }] }),
    decisionForm({ name: 'action', type: 'warning.action_recorded', data: { warning_id: id }, submit: 'dc.action',
      inputs: [{ name: 'action', label: 'dc.actionText', required: true }, { name: 'analyst', label: 'dc.analyst' }, { name: 'note', label: 'dc.note' }] }),
  );
}
