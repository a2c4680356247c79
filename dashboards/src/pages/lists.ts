import { download, get } from '../api';
import { t } from '../i18n';
import { Route, setQuery } from '../router';
import { card, h, load, pager, table, time } from '../ui';
import { field, items, str } from './shared';

type Entry = Record<string, unknown>;
const perPage = 50;

// Lists (名单): the current dishonest and focus lists, the changes since an
// earlier version, CSV/XLSX export through the API (analyst keys may read
// the partner routes). Filters: list, offset, since.
export async function renderLists(root: HTMLElement, r: Route): Promise<void> {
  const list = r.query.get('list') === 'focus' ? 'focus' : 'dishonest';
  const offset = Number(r.query.get('offset') ?? 0) || 0;
  const since = r.query.get('since') ?? '';
  const tabs = h('div', { class: 'tabs' },
    ...(['dishonest', 'focus'] as const).map((l) => h('button', { type: 'button', class: l === list ? 'active' : undefined, 'data-list': l, onclick: () => setQuery({ list: l, offset: null, since: null }) }, t(l === 'dishonest' ? 'ls.dishonest' : 'ls.focus'))));
  const snap = h('div', { id: 'snapshot' });
  const changes = h('div', { id: 'changes' });
  const exportBar = h('div', { class: 'export' }, t('ls.export') + ': ',
    ...(['csv', 'xlsx'] as const).map((f) => h('button', { type: 'button', 'data-format': f, onclick: () => download(`/partner/lists/${list}`, { format: f }, `${list}.${f}`) }, f.toUpperCase())));
  root.append(h('h1', {}, t('nav.lists')), tabs, card(t(list === 'dishonest' ? 'ls.dishonest' : 'ls.focus'), exportBar, snap), card(t('ls.changes'), changes));
  let version = 0;
  await load(snap, () => get<unknown>(`/partner/lists/${list}`, { format: 'json' }), (b) => {
    const entries = items<Entry>(b, 'entries');
    version = Number(field(b, 'version')) || 0;
    snap.append(
      h('p', { class: 'sub' }, `${t('ls.version')} ${version} · ${t('ls.published')} ${time(str(b, 'published_at'))} · ${t('ls.count')} ${str(b, 'manifest', 'count')} · sha256 ${str(b, 'manifest', 'sha256').slice(0, 16)}…`),
      table<Entry>([
        { title: t('name'), cell: (e) => h('a', { href: '/enterprises/' + str(e, 'uscc'), 'data-link': true }, str(e, 'name') || str(e, 'uscc')) },
        { title: t('uscc'), cell: (e) => h('code', {}, str(e, 'uscc')) },
        { title: t('ls.reason'), cell: (e) => str(e, 'reason') || str(e, 'rule') },
        { title: t('ls.listedAt'), cell: (e) => time(str(e, 'listed_at')).slice(0, 10) },
        { title: t('ls.expiresAt'), cell: (e) => time(str(e, 'expires_at')).slice(0, 10) },
        { title: t('ls.authority'), cell: (e) => str(e, 'authority') || str(e, 'decided_by') },
      ], entries.slice(offset, offset + perPage)),
      entries.length > perPage ? pager(offset, perPage, entries.length, (o) => setQuery({ offset: o })) : '',
    );
  });
  const from = since || String(Math.max(0, version - 1));
  const sel = h('input', { id: 'since', type: 'number', min: 0, value: from, onchange: (e: Event) => setQuery({ since: (e.target as HTMLInputElement).value }) });
  changes.append(h('label', {}, t('ls.since') + ' ', sel));
  const body = h('div');
  changes.append(body);
  await load(body, () => get<unknown>(`/partner/lists/${list}/changes`, { since: from }), (b) => {
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
