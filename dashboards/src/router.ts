// Every page has its own URL and takes its filters from the query string,
// so a link an analyst shares reopens the same filtered view.
export interface Route {
  page: string;
  args: Record<string, string>;
  query: URLSearchParams;
}

const patterns: [RegExp, string, string[]][] = [
  [/^\/$/, 'overview', []],
  [/^\/clusters\/?$/, 'clusters', []],
  [/^\/enterprises\/?$/, 'enterprises', []],
  [/^\/enterprises\/([^/]+)\/?$/, 'enterprise', ['uscc']],
  [/^\/lists\/?$/, 'lists', []],
  [/^\/counties\/?$/, 'counties', []],
  [/^\/draws\/?$/, 'draws', []],
  [/^\/draws\/([^/]+)\/verify\/?$/, 'verify', ['id']],
];

// publicPages need no key: the published draws and their verification.
export const publicPages = new Set(['draws', 'verify']);

export function route(): Route {
  const query = new URLSearchParams(location.search);
  for (const [re, page, names] of patterns) {
    const m = re.exec(location.pathname);
    if (m) {
      const args: Record<string, string> = {};
      names.forEach((n, i) => (args[n] = decodeURIComponent(m[i + 1])));
      return { page, args, query };
    }
  }
  return { page: 'notfound', args: {}, query };
}

let rerender: () => void = () => {};

export function onNavigate(fn: () => void): void {
  rerender = fn;
  window.addEventListener('popstate', fn);
  document.addEventListener('click', (e) => {
    const a = (e.target as Element).closest('a[data-link]') as HTMLAnchorElement | null;
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
    e.preventDefault();
    navigate(a.getAttribute('href') ?? '/');
  });
}

export function navigate(href: string): void {
  history.pushState(null, '', href);
  rerender();
}

// setQuery changes the current page's filters in the URL and re-renders.
export function setQuery(changes: Record<string, string | number | null | undefined>): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  history.pushState(null, '', location.pathname + (s ? '?' + s : ''));
  rerender();
}
