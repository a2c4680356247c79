import { ApiError, get, publicBytes } from '../api';
import { gradeColors } from '../charts';
import { num, t } from '../i18n';
import { Route, setQuery } from '../router';
import { card, h, link, load, state, table } from '../ui';
import { Check, CheckName, DrawnFirm, drawKind, RecomputedFirm, Verification, verify } from '../verify/draw';
import { str } from './shared';

// The random inspection draws (摇号, 双随机) as published for anyone: the
// list (/draws), and a page that recomputes one draw in the browser from
// its three published files alone (/draws/{id}/verify). Both are public:
// no key, no request beyond the public draw routes.

export interface DrawListing {
  id: string;
  kind: 'inspection' | 'recheck' | 'assignment';
  name: string;
  status: 'committed' | 'drawn';
  period?: { from: string; to: string };
  year?: number;
  plan?: string;
  files: string[];
}

export const drawPath = (id: string): string => '/api/v1/public/draws/' + encodeURIComponent(id);

function fileLinks(d: DrawListing): HTMLElement {
  return h('span', { class: 'files' },
    h('a', { href: drawPath(d.id), target: '_blank', rel: 'noopener' }, 'JSON'),
    ...d.files.map((f) => [' · ', h('a', { href: `${drawPath(d.id)}/${f}`, download: `${d.id}-${f}` }, f)]).flat());
}

function span(d: DrawListing): string {
  if (d.period) return `${d.period.from} – ${d.period.to}`;
  if (d.year) return String(d.year);
  return d.plan ?? '';
}

// drawsTable lists draws with their status, files and the verify page.
export function drawsTable(ds: DrawListing[], pick?: (id: string) => void): HTMLElement {
  if (!ds.length) return h('p', { class: 'state empty', 'data-state': 'empty' }, t('dr.none'));
  return table<DrawListing>([
    { title: t('name'), cell: (d) => (pick ? h('a', { href: '#', 'data-draw': d.id, onclick: (e: Event) => (e.preventDefault(), pick(d.id)) }, d.name) : d.name) },
    { title: 'id', cell: (d) => h('code', {}, d.id) },
    { title: t('dr.kind'), cell: (d) => t(`dr.kind.${d.kind}` as Parameters<typeof t>[0]) },
    { title: t('status'), cell: (d) => h('span', { class: 'status ' + (d.status === 'drawn' ? 'succeeded' : 'running') }, t(`dr.status.${d.status}` as Parameters<typeof t>[0])) },
    { title: t('dr.period'), cell: span },
    { title: t('dr.files'), cell: fileLinks },
    { title: '', cell: (d) => (d.kind === 'assignment' ? '' : link(`/draws/${encodeURIComponent(d.id)}/verify`, t('dr.verify'))) },
  ], ds);
}

// /draws: every published draw, for anyone.
export async function renderDraws(root: HTMLElement): Promise<void> {
  const box = h('div', { id: 'draws' });
  root.append(h('h1', {}, t('nav.draws')), h('p', { class: 'sub' }, t('dr.intro')), card(t('co.draws'), box));
  await load(box, () => get<{ draws: DrawListing[] }>('/public/draws'), (b) => box.append(drawsTable(b.draws)));
}

// drawnFirms shows a drawn draw's firms and inspectors (from its public
// document) and, for analysts, the strata behind it (k_g per grade).
export async function drawnFirms(box: HTMLElement, id: string, analyst: boolean): Promise<void> {
  await load(box, async () => {
    const doc = await get<{ name: string; status: string; drawn?: DrawnFirm[]; beacon?: string; beacon_source: string }>('/public/draws/' + encodeURIComponent(id));
    const explain = analyst ? await get<Record<string, unknown>>(`/draws/${encodeURIComponent(id)}/explain`).catch(() => null) : null;
    return { doc, explain };
  }, ({ doc, explain }) => {
    const strata = (explain?.strata as Record<string, unknown>[] | undefined) ?? [];
    box.append(
      h('h3', {}, doc.name, ' ', h('code', {}, id)),
      h('p', { class: 'sub' }, t('dr.beaconSource'), ' ', doc.beacon_source, doc.beacon ? ` · ${t('dr.beacon')} ${doc.beacon}` : ''),
      strata.length ? table<Record<string, unknown>>([
        { title: t('grade'), cell: (s) => gradeBadge(str(s, 'grade')) },
        { title: 'N_g', num: true, cell: (s) => num(Number(s.firms)) },
        { title: 'p_g', num: true, cell: (s) => str(s, 'probability') },
        { title: 'k_g', num: true, cell: (s) => num(Number(s.drawn)) },
      ], strata) : '',
      doc.status !== 'drawn' ? h('p', { class: 'state empty', 'data-state': 'empty' }, t('dr.notDrawn'))
        : table<DrawnFirm>([
          { title: t('uscc'), cell: (f) => link('/enterprises/' + f.uscc, h('code', {}, f.uscc)) },
          { title: t('grade'), cell: (f) => gradeBadge(f.grade) },
          { title: t('dr.inspectors'), cell: (f) => h('span', { class: f.inspectors.length < 2 ? 'neg' : undefined }, f.inspectors.join(', ') || '–') },
        ], doc.drawn ?? []),
      h('p', {}, link(`/draws/${encodeURIComponent(id)}/verify`, t('dr.verify'))),
    );
  });
}

function gradeBadge(g: string): HTMLElement {
  return h('span', { class: 'badge', style: `background:${gradeColors[g] ?? '#777'}` }, g);
}

const checkNames: CheckName[] = ['document', 'pool.csv', 'pool_sha256', 'inspectors.csv', 'inspectors_sha256', 'rules_sha256', 'commitment', 'beacon', 'drawn', 'inspectors'];

// /draws/{id}/verify: fetch the document, pool.csv and inspectors.csv and
// recompute the draw here, showing each check passed or failed.
export async function renderVerify(root: HTMLElement, r: Route): Promise<void> {
  const id = r.args.id;
  const head = h('div', { id: 'verify-head' });
  const body = h('div', { id: 'verification' });
  root.append(h('h1', {}, t('vf.title')), head, body);
  const qc = window as unknown as { qcredit: Record<string, unknown> };
  delete qc.qcredit.verification;
  if (!globalThis.crypto?.subtle) {
    state(body, 'error', t('vf.insecure'));
    document.body.dataset.verified = 'unavailable';
    return;
  }
  state(body, 'loading');
  const base = '/public/draws/' + encodeURIComponent(id);
  try {
    const doc = await publicBytes(base);
    const kind = drawKind(doc);
    if (kind === 'assignment') {
      state(body, 'empty', t('vf.otherKind', { kind: t('dr.kind.assignment'), id }));
      document.body.dataset.verified = 'unavailable';
      return;
    }
    const [pool, inspectors] = await Promise.all([publicBytes(base + '/pool.csv'), publicBytes(base + '/inspectors.csv')]);
    const progress = h('small');
    body.querySelector('.state')?.append(' ', progress);
    const v = await verify(doc, pool, inspectors, (what, done, total) => (progress.textContent = `${t(what === 'firms' ? 'vf.hashingFirms' : 'vf.hashingInspectors')} ${num(done)} / ${num(total)}`));
    body.replaceChildren();
    renderVerification(head, body, id, v);
    qc.qcredit.verification = { ok: v.ok, kind: v.doc?.kind, checks: v.checks, strata: v.strata, recomputed: v.recomputed, added: v.added, hashes: v.hashes, canonicalRules: v.canonicalRules };
    document.body.dataset.verified = v.ok ? 'ok' : 'failed';
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) state(body, 'empty', e.message);
    else state(body, 'error', e instanceof Error ? e.message : String(e), () => setQuery({}));
    document.body.dataset.verified = 'unavailable';
  }
}

function renderVerification(head: HTMLElement, body: HTMLElement, id: string, v: Verification): void {
  const d = v.doc;
  const files = ['pool.csv', 'inspectors.csv'];
  const span = d?.kind === 'recheck' ? `${t('dr.kind.recheck')} · ${t('vf.year')} ${d.year}` : `${t('dr.period')} ${d?.period.from} – ${d?.period.to}`;
  head.append(
    h('p', {}, h('strong', {}, d?.name || id), ' ', h('code', {}, id)),
    d ? h('p', { class: 'sub' }, `${t('status')} ${t(`dr.status.${d.status === 'drawn' ? 'drawn' : 'committed'}`)} · ${span} · ${t('dr.beaconSource')} ${d.beacon_source}`) : '',
    h('p', { class: 'sub' }, t('vf.intro'), ' ', fileLinks({ id, files, kind: 'inspection', name: '', status: 'drawn' })),
  );
  const failed = v.checks.filter((c) => !c.ok);
  const names = [...new Set(failed.map((c) => c.check))];
  body.append(
    h('p', { id: 'verdict', class: 'verdict ' + (v.ok ? 'ok' : 'failed') },
      v.ok ? t(d?.status === 'drawn' ? 'vf.ok' : 'vf.okCommitted', { n: v.checks.length }) : t('vf.failed', { names: names.join(', ') })),
    card(t('vf.checks'), table<Check>([
      { title: t('vf.check'), cell: (c) => h('span', { 'data-check': c.check, 'data-ok': String(c.ok) }, h('code', {}, c.check), ' ', h('small', {}, checkLabel(c.check))) },
      { title: t('vf.result'), cell: (c) => h('span', { class: 'badge', style: `background:${c.ok ? '#2e7d32' : '#c62828'}` }, t(c.ok ? 'vf.pass' : 'vf.fail')) },
      { title: t('vf.subject'), cell: (c) => (c.subject ? h('code', {}, c.subject) : '') },
      { title: t('vf.detail'), cell: (c) => h('small', {}, c.detail) },
    ], v.checks)),
    card(t('vf.computed'), table<[string, string]>([
      { title: '', cell: (x) => x[0] },
      { title: 'SHA-256', cell: (x) => h('code', {}, x[1]) },
    ], [['pool.csv', v.hashes.pool ?? ''], ['inspectors.csv', v.hashes.inspectors ?? ''], [t('vf.rules'), v.hashes.rules ?? '']]),
    v.canonicalRules ? h('p', { class: 'sub' }, t('vf.canonical'), ' ', h('code', {}, v.canonicalRules)) : null),
  );
  if (v.strata.length) {
    body.append(card(t('vf.strata'), h('p', { class: 'sub' }, t(d?.kind === 'recheck' ? 'vf.kRecheck' : 'vf.kRule')), table([
      { title: t('grade'), cell: (s) => (s.grade ? gradeBadge(s.grade) : '–') },
      { title: 'N', num: true, cell: (s) => num(s.firms) },
      { title: 'p', num: true, cell: (s) => s.probability },
      { title: 'k', num: true, cell: (s) => num(s.drawn) },
    ], v.strata)));
  }
  const published = new Map([...(d?.drawn ?? []), ...(d?.added ?? [])].map((f) => [f.uscc, f]));
  const mark = (f: DrawnFirm): HTMLElement => {
    const p = published.get(f.uscc);
    const same = p && ('grade' in p ? p.grade : '') === f.grade && p.inspectors.join(' ') === f.inspectors.join(' ');
    return h('span', { class: same ? 'pos' : 'neg' }, same ? '✓' : p ? `✗ ${'grade' in p ? p.grade : ''} ${p.inspectors.join(', ')}` : '✗ ' + t('vf.missing'));
  };
  if (v.recomputed) {
    body.append(card(t('vf.drawn'), table<RecomputedFirm>([
      { title: t('uscc'), cell: (f) => h('code', {}, f.uscc) },
      { title: t('grade'), cell: (f) => (f.grade ? gradeBadge(f.grade) : '–') },
      { title: 'u', cell: (f) => h('code', {}, f.u) },
      { title: t('dr.inspectors'), cell: (f) => f.inspectors.join(', ') },
      { title: t('vf.published'), cell: mark },
    ], v.recomputed)));
  }
  if (v.added?.length) {
    body.append(card(t('vf.added'), table<DrawnFirm>([
      { title: t('uscc'), cell: (f) => h('code', {}, f.uscc) },
      { title: t('dr.inspectors'), cell: (f) => f.inspectors.join(', ') },
      { title: t('vf.published'), cell: mark },
    ], v.added)));
  }
}

function checkLabel(c: CheckName): string {
  return checkNames.includes(c) ? t(`vf.c.${c}` as Parameters<typeof t>[0]) : '';
}
