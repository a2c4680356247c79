import { CreditFile, get, Reason, RecordEvent, SearchHit } from '../api';
import { draw, gradeColors } from '../charts';
import { eventName, t } from '../i18n';
import { navigate, Route, setQuery } from '../router';
import { card, chartBox, h, link, load, pager, table, time } from '../ui';
import { str } from './shared';

function searchForm(q: string): HTMLElement {
  const input = h('input', { id: 'search-input', type: 'search', value: q, placeholder: t('ent.search'), autocomplete: 'off' });
  return h(
    'form',
    { class: 'search', onsubmit: (e: Event) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) navigate('/enterprises?q=' + encodeURIComponent(v));
    } },
    input,
    h('button', { type: 'submit', id: 'search-submit' }, t('ent.searchBtn')),
  );
}

// /enterprises?q=…: search by a part of the name or the USCC; a single
// exact hit opens its credit file.
export async function renderSearch(root: HTMLElement, r: Route): Promise<void> {
  const q = r.query.get('q') ?? '';
  const results = h('div', { id: 'search-results' });
  root.append(h('h1', {}, t('nav.enterprises')), searchForm(q), h('p', { class: 'sub' }, t('ent.hint')), results);
  if (!q) return;
  await load(results, () => get<{ items: SearchHit[] }>('/dashboard/enterprises', { q, limit: 50 }), (res) => {
    if (!res.items.length) {
      results.append(h('p', { class: 'state empty', 'data-state': 'empty' }, t('ent.none')));
      return;
    }
    results.append(
      h('ul', { class: 'hits' }, ...res.items.map((x) =>
        h('li', { class: 'search-hit' }, link('/enterprises/' + x.uscc, x.name), ' ', h('code', {}, x.uscc), ' ', x.region_name ?? x.region, ' ', x.industry,
          x.grade ? h('span', { class: 'badge', style: `background:${gradeColors[x.grade]}` }, x.grade) : null))),
    );
  });
}

const recordsPerPage = 50;

// /enterprises/{uscc}: the credit file (企业质量信用档案). Filters: rpage.
export async function renderEnterprise(root: HTMLElement, r: Route): Promise<void> {
  const uscc = r.args.uscc;
  const body = h('div', { id: 'credit-file' });
  root.append(searchForm(''), body);
  await load(body, () => get<CreditFile>('/enterprises/' + encodeURIComponent(uscc)), (f) => renderFile(body, f, r));
}

async function renderFile(body: HTMLElement, f: CreditFile, r: Route): Promise<void> {
  const e = f.enterprise;
  const grade = f.score?.grade;
  body.append(
    h('h1', {}, e.name, grade ? h('span', { class: 'badge big', style: `background:${gradeColors[grade]}`, id: 'grade' }, grade + ' ' + t(`grade.${grade}` as Parameters<typeof t>[0]).slice(2)) : null),
    h('p', { class: 'sub' }, h('code', {}, e.uscc), ' · ', t('ent.region'), ' ', e.region, ' · ', t('industry'), ' ', e.industry,
      e.cluster ? ' · ' + t('cluster') + ' ' + e.cluster : '', ' · ', t('ent.registered'), ' ', time(e.registered_at).slice(0, 10),
      f.score ? ` · ${t('ent.score')} ${f.score.score} (${t('asOf')} ${f.score.as_of})` : ''),
  );
  const hist = chartBox('score-history');
  body.append(h('div', { class: 'grid' }, card(t('ent.history'), hist), card(t('ent.listings'), listings(f))));
  const history = [...f.history].sort((a, b) => a.as_of.localeCompare(b.as_of) || a.run_id.localeCompare(b.run_id));
  draw(hist, {
    tooltip: { trigger: 'axis' },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: history.map((s) => s.as_of) },
    yAxis: { type: 'value', min: (v: { min: number }) => Math.max(0, Math.floor(v.min / 10) * 10 - 10), max: 100 },
    visualMap: { show: false, dimension: 1, pieces: [{ lt: 60, color: gradeColors.D }, { gte: 60, lt: 75, color: gradeColors.C }, { gte: 75, lt: 90, color: gradeColors.B }, { gte: 90, color: gradeColors.A }] },
    series: [{ type: 'line', name: t('ent.score'), data: history.map((s) => Number(s.score)), symbolSize: 7,
      markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: '#999' }, data: [{ yAxis: 90 }, { yAxis: 75 }, { yAxis: 60 }] } }],
  }, history.length);
  const reasons: Reason[] = f.score?.reasons ?? [];
  body.append(
    card(t('ent.reasons'),
      f.score ? h('p', { class: 'sub' }, `${t('ent.base')} 100 + Σ = ${f.score.score}`) : null,
      table<Reason>([
        { title: t('ent.rule'), cell: (x) => h('span', {}, x.rule, x.detail ? h('small', {}, ' ' + x.detail) : null) },
        { title: t('ent.points'), num: true, cell: (x) => h('span', { class: Number(x.points) < 0 ? 'neg' : 'pos' }, String(x.points)) },
        { title: t('ent.records'), cell: (x) => (x.events ?? []).join(', ') || (x.count ? String(x.count) : '') },
        { title: t('ent.basis'), cell: (x) => x.basis },
      ], reasons)),
  );
  const page = Math.max(0, Number(r.query.get('rpage') ?? 0) || 0);
  const records = [...f.records].reverse(); // newest first
  const shown = records.slice(page * recordsPerPage, (page + 1) * recordsPerPage);
  body.append(
    card(t('ent.timeline'),
      table<RecordEvent>([
        { title: t('ent.occurred'), cell: (x) => time(x.occurred_at) },
        { title: t('ent.type'), cell: (x) => eventName(x.type) },
        { title: t('ent.source'), cell: (x) => x.source },
        { title: t('ent.detail'), cell: (x) => h('small', {}, summary(x.data)) },
        { title: 'id', cell: (x) => h('code', {}, x.id) },
      ], shown),
      records.length > recordsPerPage ? pager(page * recordsPerPage, recordsPerPage, records.length, (o) => setQuery({ rpage: o / recordsPerPage || null })) : null),
  );
}

function summary(d: Record<string, unknown> | undefined): string {
  if (!d) return '';
  return Object.entries(d).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
}

function listings(f: CreditFile): HTMLElement {
  const ls = f.listings ?? [];
  if (!ls.length) return h('p', { class: 'state empty', 'data-state': 'empty' }, t('ent.noListings'));
  return table<Record<string, unknown>>([
    { title: t('nav.lists'), cell: (x) => str(x, 'list') },
    { title: t('ls.reason'), cell: (x) => str(x, 'reason') || str(x, 'rule') },
    { title: t('ls.listedAt'), cell: (x) => time(str(x, 'listed_at')) },
    { title: t('ls.expiresAt'), cell: (x) => time(str(x, 'expires_at') || str(x, 'removed_at')) },
  ], ls);
}
