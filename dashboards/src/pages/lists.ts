import { CreditFile, download, get } from '../api';
import { t } from '../i18n';
import { Route, setQuery } from '../router';
import { card, h, load, pager, table, time } from '../ui';
import { decisionForm } from './decisions';
import { field, items, str } from './shared';

type Entry = Record<string, unknown>;
const perPage = 50;
const recentVersions = 20;

// Lists (名单): the current dishonest and focus lists, a page at a time
// from the API (offset, limit); the recent versions with their own
// changes; the changes since an earlier version; CSV/XLSX export of the
// whole version through the API (analyst keys may read the partner
// routes). Filters: list, offset, since, to (default the latest).
export async function renderLists(root: HTMLElement, r: Route): Promise<void> {
  const list = r.query.get('list') === 'focus' ? 'focus' : 'dishonest';
  const offset = Math.max(0, Number(r.query.get('offset') ?? 0) || 0);
  const since = Number(r.query.get('since') ?? '') || 0;
  const to = Number(r.query.get('to') ?? '') || 0;
  const tabs = h('div', { class: 'tabs' },
    ...(['dishonest', 'focus'] as const).map((l) => h('button', { type: 'button', class: l === list ? 'active' : undefined, 'data-list': l, onclick: () => setQuery({ list: l, offset: null, since: null, to: null }) }, t(l === 'dishonest' ? 'ls.dishonest' : 'ls.focus'))));
  const snap = h('div', { id: 'snapshot' });
  const versions = h('div', { id: 'versions' });
  const changes = h('div', { id: 'changes' });
  const exportBar = h('div', { class: 'export' }, t('ls.export') + ': ',
    ...(['csv', 'xlsx'] as const).map((f) => h('button', { type: 'button', 'data-format': f, onclick: () => download(`/partner/lists/${list}`, { format: f }, `${list}.${f}`) }, f.toUpperCase())));
  const pending = pendingCard(r.query.get('firm') ?? '');
  root.append(h('h1', {}, t('nav.lists')), tabs, card(t(list === 'dishonest' ? 'ls.dishonest' : 'ls.focus'), exportBar, snap),
    card(t('ls.versions'), versions), card(t('ls.changes'), changes), pending);
  let latest = 0;
  await Promise.all([
    load(snap, () => get<unknown>(`/partner/lists/${list}`, { format: 'json', offset, limit: perPage }), (b) => {
      const total = Number(field(b, 'total')) || 0;
      snap.append(
        h('p', { class: 'sub' }, `${t('ls.version')} ${str(b, 'version')} · ${t('ls.published')} ${time(str(b, 'published_at'))} · ${t('ls.count')} ${str(b, 'manifest', 'count')} · sha256 ${str(b, 'manifest', 'sha256').slice(0, 16)}…`),
        table<Entry>([
          { title: t('name'), cell: (e) => h('a', { href: '/enterprises/' + str(e, 'uscc'), 'data-link': true }, str(e, 'name') || str(e, 'uscc')) },
          { title: t('uscc'), cell: (e) => h('code', {}, str(e, 'uscc')) },
          { title: t('ls.reason'), cell: (e) => str(e, 'reason') || str(e, 'rule') },
          { title: t('ls.listedAt'), cell: (e) => time(str(e, 'listed_at')).slice(0, 10) },
          { title: t('ls.expiresAt'), cell: (e) => time(str(e, 'expires_at')).slice(0, 10) },
          { title: t('ls.authority'), cell: (e) => str(e, 'authority') || str(e, 'decided_by') },
        ], items<Entry>(b, 'entries')),
        total > perPage || offset > 0 ? pager(offset, perPage, total, (o) => setQuery({ offset: o })) : '',
      );
    }),
    load(versions, () => get<unknown>(`/partner/lists/${list}/versions`, { limit: recentVersions }), (b) => {
      const vs = items<Entry>(b, 'versions');
      latest = Number(field(vs[0], 'version')) || 0;
      versions.append(table<Entry>([
        { title: t('ls.version'), num: true, cell: (v) => str(v, 'version') },
        { title: t('ls.published'), cell: (v) => time(str(v, 'published_at')) },
        { title: t('ls.count'), num: true, cell: (v) => str(v, 'manifest', 'count') },
        { title: t('ls.ownChanges'), cell: (v) => field(v, 'changes') === null ? '–'
          : h('span', { class: 'counts' }, h('span', { class: 'op add' }, '+' + str(v, 'changes', 'add')), ' ',
            h('span', { class: 'op remove' }, '−' + str(v, 'changes', 'remove')), ' ', h('span', { class: 'op modify' }, '~' + str(v, 'changes', 'modify'))) },
        { title: '', cell: (v) => {
          const n = Number(str(v, 'version'));
          // Version n's own changes: from n-1 (when retained) to n.
          const from = n - 1;
          return h('button', { type: 'button', class: 'show-changes', 'data-version': String(n), title: t('ls.showChangesHelp', { from, n }),
            disabled: from < 1 || field(v, 'changes') === null, 'aria-pressed': String(from === since && n === to),
            onclick: () => setQuery({ since: from, to: n }) }, t('ls.showChanges'));
        } },
      ], vs));
    }),
  ]);
  const from = since || latest - 1;
  const sel = h('input', { id: 'since', type: 'number', min: 1, value: from >= 1 ? String(from) : '', onchange: (e: Event) => setQuery({ since: (e.target as HTMLInputElement).value, to: null }) });
  changes.append(h('label', {}, t('ls.since') + ' ', sel));
  const body = h('div');
  changes.append(body);
  if (from < 1) {
    body.append(h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')));
    return;
  }
  await load(body, () => get<unknown>(`/partner/lists/${list}/changes`, to ? { since: from, to } : { since: from }), (b) => {
    const cs = items<Entry>(b, 'changes');
    body.append(
      h('p', { class: 'sub' }, `${str(b, 'from')} → ${str(b, 'to')}`),
      cs.length ? table<Entry>([
        { title: '', cell: (c) => h('span', { class: 'op ' + str(c, 'op') }, t(`ls.op.${str(c, 'op')}` as Parameters<typeof t>[0])) },
        { title: t('name'), cell: (c) => str(c, 'entry', 'name') || str(c, 'uscc') },
        { title: t('uscc'), cell: (c) => h('code', {}, str(c, 'uscc')) },
        { title: t('ls.reason'), cell: (c) => str(c, 'entry', 'reason') },
      ], cs.slice(0, 200)) : h('p', { class: 'state empty', 'data-state': 'empty' }, t('empty')),
    );
  });
}

// pendingCard (拟列入 · 陈述申辩): a firm's serious-list entries as the
// current lists run decided them (the credit file's listings), with the
// forms that record its objection to a pending or listed entry and the
// decision on each objection not yet decided. Filter: firm (a USCC).
function pendingCard(firm: string): HTMLElement {
  const input = h('input', { id: 'objection-firm', value: firm, size: 20, placeholder: '91320…' });
  const box = h('div', { id: 'objections' });
  const lookup = (e?: Event) => {
    e?.preventDefault();
    const u = input.value.trim().toUpperCase();
    if (u) setQuery({ firm: u });
  };
  // After a decision the firm is reloaded (its objections come from its
  // records at once), the stored event's id shown above it.
  const render = (note = ''): Promise<void> => load(box, () => get<CreditFile>(`/enterprises/${encodeURIComponent(firm)}`), (f) => {
    if (note) box.append(h('p', { class: 'decision-result', 'data-state': 'stored' }, note));
    renderObjections(box, f, render);
  });
  if (firm) void render();
  return card(t('dc.pending'), h('p', { class: 'sub' }, t('dc.pendingHelp')),
    h('form', { class: 'filters', onsubmit: lookup }, h('label', {}, t('uscc') + ' ', input), h('button', { type: 'submit', id: 'objection-lookup' }, t('dc.lookup'))),
    box);
}

function renderObjections(box: HTMLElement, f: CreditFile, reload: (note: string) => void): void {
  const uscc = f.enterprise.uscc;
  const l = f.listings as unknown;
  const entries = items<Entry>(field(l, 'entries')).filter((e) => ['pending', 'listed'].includes(str(e, 'state')));
  const objections = items<Entry>(field(l, 'objections'));
  box.append(h('h3', {}, `${f.enterprise.name} · ${uscc}`));
  if (!entries.length) box.append(h('p', { class: 'state empty', 'data-state': 'empty' }, t('dc.noPending')));
  else box.append(table<Entry>([
    { title: t('ls.reason'), cell: (e) => str(e, 'reason') },
    { title: t('dc.state'), cell: (e) => h('span', { 'data-entry-state': str(e, 'state') }, str(e, 'state')) },
    { title: t('dc.noticeEnds'), cell: (e) => str(e, 'notice_ends') },
    { title: '', cell: (e) => decisionForm({ name: 'objection', type: 'listing.objection_received', uscc, data: { key: str(e, 'key') }, submit: 'dc.object',
      inputs: [{ name: 'statement', label: 'dc.statement' }], done: (d) => reload(t('dc.stored', { id: d.id })) }) },
  ], entries));
  if (!objections.length) return;
  box.append(h('h3', {}, t('dc.objections')), table<Entry>([
    { title: t('dc.objection'), cell: (o) => h('code', {}, str(o, 'objection_id')) },
    { title: t('dc.statement'), cell: (o) => str(o, 'statement') },
    { title: t('dc.outcome'), cell: (o) => str(o, 'outcome')
      ? `${t(str(o, 'outcome') === 'upheld' ? 'dc.upheld' : 'dc.rejected')} ${str(o, 'decision_no')}`
      : decisionForm({ name: 'objection-decision', type: 'listing.objection_decided', uscc, data: { objection_id: str(o, 'objection_id') }, submit: 'dc.decide',
        inputs: [{ name: 'outcome', label: 'dc.outcome', kind: 'select', options: [['upheld', 'dc.upheld'], ['rejected', 'dc.rejected']] },
          { name: 'decision_no', label: 'dc.decisionNo' }], done: (d) => reload(t('dc.stored', { id: d.id })) }) },
  ], objections));
}
