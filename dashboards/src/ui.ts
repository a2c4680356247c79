import { ApiError } from './api';
import { Key, num, t } from './i18n';

type Child = Node | string | null | undefined | false;

// h makes an element: h('a', {href: '/'}, 'text').
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

// link is an in-app link: the router handles it without a reload.
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href, 'data-link': true }, ...children);
}

export function card(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

export function chartBox(name: string, tall = false): HTMLDivElement {
  return h('div', { class: tall ? 'chart tall' : 'chart', 'data-chart': name });
}

// state shows a box's loading, empty, error or unavailable state.
export function state(el: HTMLElement, kind: 'loading' | 'empty' | 'error' | 'unavailable', detail = '', retry?: () => void): void {
  el.replaceChildren(
    h(
      'div',
      { class: 'state ' + kind, 'data-state': kind },
      kind === 'loading' ? h('span', { class: 'spinner' }) : null,
      t(kind as Key),
      detail ? h('small', {}, ' ' + detail) : null,
      retry ? h('button', { type: 'button', onclick: retry }, t('retry')) : null,
    ),
  );
  if (kind !== 'loading') {
    el.dataset.state = kind;
  }
}

// load fills box from fetch, showing its loading state meanwhile and its
// error (or unavailable) state on failure, with a retry.
export async function load<T>(box: HTMLElement, fetch: () => Promise<T>, render: (v: T) => void | Promise<void>): Promise<void> {
  state(box, 'loading');
  try {
    const v = await fetch();
    box.replaceChildren();
    delete box.dataset.state;
    await render(v);
  } catch (e) {
    if (e instanceof ApiError && e.unavailable) state(box, 'unavailable', e.message);
    else if (e instanceof ApiError && e.status === 404) state(box, 'empty', e.message); // nothing of that name (yet)
    else state(box, 'error', e instanceof Error ? e.message : String(e), () => load(box, fetch, render));
  }
}

export interface Column<T> {
  title: string;
  cell: (row: T) => Child;
  num?: boolean;
}

export function table<T>(cols: Column<T>[], rows: T[]): HTMLTableElement {
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.title)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...cols.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.cell(r)))))),
  );
}

// pager moves through a listing the API pages (offset, limit, total).
export function pager(offset: number, limit: number, total: number, go: (offset: number) => void): HTMLElement {
  const pages = Math.max(1, Math.ceil(total / limit));
  const p = Math.floor(offset / limit) + 1;
  return h(
    'div',
    { class: 'pager' },
    h('button', { type: 'button', class: 'prev', disabled: p <= 1, onclick: () => go(Math.max(0, offset - limit)) }, t('prev')),
    h('span', {}, t('page', { p, n: pages, t: num(total) })),
    h('button', { type: 'button', class: 'next', disabled: p >= pages, onclick: () => go(offset + limit) }, t('next')),
  );
}

export function time(s: string | undefined): string {
  if (!s) return '';
  return s.replace('T', ' ').replace(/(\.\d+)?\+08:00$/, '');
}
