import './style.css';
import { ApiError, get, key, onAuthRequired, Session, setKey, setRoutes } from './api';
import { disposeAll } from './charts';
import { currentLang, setLang, t } from './i18n';
import { navigate, onNavigate, publicPages, route } from './router';
import { h, link } from './ui';
import { renderOverview } from './pages/overview';
import { renderClusters } from './pages/clusters';
import { renderEnterprise, renderSearch } from './pages/enterprise';
import { renderLists } from './pages/lists';
import { renderCounties } from './pages/counties';
import { renderDraws, renderVerify } from './pages/draws';
import type { Route } from './router';

type Page = (root: HTMLElement, r: Route) => Promise<void>;

const pages: Record<string, Page> = {
  overview: renderOverview,
  clusters: renderClusters,
  enterprises: renderSearch,
  enterprise: renderEnterprise,
  lists: renderLists,
  counties: renderCounties,
  draws: renderDraws,
  verify: renderVerify,
};

const navItems: [string, Parameters<typeof t>[0], string][] = [
  ['/', 'nav.overview', 'overview'],
  ['/clusters', 'nav.clusters', 'clusters'],
  ['/enterprises', 'nav.enterprises', 'enterprise'],
  ['/lists', 'nav.lists', 'lists'],
  ['/counties', 'nav.counties', 'counties'],
  ['/draws', 'nav.draws', 'draws'],
];

let session: Session = { dev: false, analyst: false };
// sessionLoaded: /session has been asked (the first page that needs a key
// asks it; the public pages make no request beyond their own data).
let sessionLoaded = false;
let generation = 0;

function chrome(page: string): void {
  document.title = t('title');
  const nav = document.getElementById('nav')!;
  nav.replaceChildren(
    ...navItems.map(([href, label, p]) => {
      const a = link(href, t(label));
      if (page === p || (p === 'enterprise' && page === 'enterprises') || (p === 'draws' && page === 'verify')) a.className = 'active';
      return a;
    }),
  );
  document.getElementById('lang-switch')!.textContent = t('lang.switch');
  const banner = document.getElementById('dev-banner')!;
  banner.hidden = !session.dev;
  banner.textContent = t('dev');
  const out = document.getElementById('sign-out')!;
  out.hidden = session.dev || !key();
  out.textContent = t('signout');
}

// render draws the page of the current URL. When it and its charts are
// done, body gets data-ready (what the tests and the load measurement wait for).
async function render(): Promise<void> {
  const gen = ++generation;
  const r = route();
  disposeAll();
  delete document.body.dataset.ready;
  document.body.dataset.page = r.page;
  let signedIn = true;
  if (!publicPages.has(r.page)) {
    await loadSession();
    if (gen !== generation) return;
    signedIn = session.dev || !!key();
  }
  chrome(r.page);
  const root = document.getElementById('app')!;
  root.replaceChildren();
  const page = pages[r.page];
  if (!signedIn) {
    // No request before a key: the sign-in renders the page once it holds.
    root.append(h('p', { class: 'state', 'data-state': 'signin' }, t('signin.help')));
    signIn();
  } else if (!page) {
    root.append(h('p', { class: 'state empty' }, '404'));
  } else {
    await page(root, r);
  }
  await chartsDone(root);
  if (gen === generation) {
    // readyMs: milliseconds from navigation to a page with its data drawn
    // and its handlers attached (the browser tests log it for the overview).
    if (!document.body.dataset.readyMs) document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = '1';
  }
}

// chartsDone waits until every chart box has rendered or shows a state.
function chartsDone(root: HTMLElement): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const boxes = [...root.querySelectorAll<HTMLElement>('.chart')];
      // Rendered charts are painted by zrender on a following frame: two
      // more frames and the canvases hold what the user sees.
      if (boxes.every((b) => b.dataset.rendered || b.querySelector('[data-state]') || b.dataset.state)) requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
      else requestAnimationFrame(check);
    };
    check();
  });
}

async function loadSession(): Promise<void> {
  if (sessionLoaded) return;
  sessionLoaded = true;
  try {
    session = await get<Session>('/session');
    if (session.routes) setRoutes(session.routes);
  } catch {
    /* an older server: sign in with a key */
  }
}

function signIn(): void {
  const dlg = document.getElementById('sign-in') as HTMLDialogElement;
  if (dlg.open) return;
  document.getElementById('sign-in-title')!.textContent = t('signin.title');
  document.getElementById('sign-in-help')!.textContent = t('signin.help');
  document.getElementById('sign-in-submit')!.textContent = t('signin.submit');
  dlg.showModal();
}

// signInError says why a key was refused, in the analyst's language, with
// the server's own words after it.
function signInError(e: unknown): string {
  if (!(e instanceof ApiError)) return t('signin.unreachable');
  const why: Record<string, Parameters<typeof t>[0]> = { invalid_key: 'signin.invalid', key_revoked: 'signin.revoked', key_expired: 'signin.expired', forbidden: 'signin.scope' };
  return `${t(why[e.code] ?? 'signin.bad')} (${e.code}: ${e.message})`;
}

async function main(): Promise<void> {
  setLang(currentLang());
  document.getElementById('lang-switch')!.addEventListener('click', () => {
    setLang(currentLang() === 'zh' ? 'en' : 'zh');
    const q = new URLSearchParams(location.search);
    if (q.has('lang')) {
      q.set('lang', currentLang());
      history.replaceState(null, '', location.pathname + '?' + q.toString());
    }
    render();
  });
  document.getElementById('sign-out')!.addEventListener('click', () => {
    setKey(null);
    location.reload();
  });
  const form = document.getElementById('sign-in-form') as HTMLFormElement;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = document.getElementById('sign-in-key') as HTMLInputElement;
    setKey(input.value.trim());
    const err = document.getElementById('sign-in-error')!;
    try {
      await get('/dashboard/overview');
      err.hidden = true;
      (document.getElementById('sign-in') as HTMLDialogElement).close();
      render();
    } catch (e) {
      setKey(null);
      err.textContent = signInError(e);
      err.hidden = false;
    }
  });
  onAuthRequired(() => {
    if (!session.dev) signIn();
  });
  onNavigate(render);
  await render();
}

(window as unknown as { qcredit: object }).qcredit = { navigate };
main();
