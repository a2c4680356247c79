// The dashboards read only the documented API (/api/v1, scope analyst).
// Under `qcredit serve` the analyst's key is sent as a Bearer token; it is
// kept in sessionStorage, so it lives as long as the browser session.
// Under `qcredit dev` a development-only session cookie stands in for it.

const keyName = 'qcredit.key';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
  // unavailable is a route that does not exist on this server (yet).
  get unavailable(): boolean {
    return this.status === 404 && this.code === 'not_found';
  }
}

let pending = 0;
// routes are the server's API routes as regular expressions (from
// /api/v1/session); null until known, then only those are requested.
let routes: RegExp[] | null = null;

export function setRoutes(list: string[]): void {
  routes = list
    .filter((r) => r.startsWith('GET '))
    .map((r) => new RegExp('^' + r.slice(4).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\\\*[^/]*$/, '.*') + '$'));
}

function exists(path: string): boolean {
  return routes === null || routes.some((re) => re.test('/api/v1' + path));
}
let onAuth: () => void = () => {};

export function onAuthRequired(fn: () => void): void {
  onAuth = fn;
}

export function key(): string | null {
  return sessionStorage.getItem(keyName);
}

export function setKey(k: string | null): void {
  if (k) sessionStorage.setItem(keyName, k);
  else sessionStorage.removeItem(keyName);
}

function progress(delta: number): void {
  pending += delta;
  const bar = document.getElementById('progress');
  if (bar) bar.hidden = pending === 0;
  document.body.dataset.pending = String(pending);
}

function headers(): Record<string, string> {
  const k = key();
  return k ? { Authorization: 'Bearer ' + k } : {};
}

export type Params = Record<string, string | number | undefined | null>;

export function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return '/api/v1' + path + (s ? '?' + s : '');
}

// apiError reads the API's one error shape ({"error": {"code", "message"}}).
async function apiError(res: Response): Promise<ApiError> {
  try {
    const body = await res.json();
    return new ApiError(res.status, body?.error?.code ?? 'http_' + res.status, body?.error?.message ?? res.statusText);
  } catch {
    return new ApiError(res.status, 'http_' + res.status, res.statusText); // not the API's error shape
  }
}

async function request(path: string, params: Params): Promise<Response> {
  if (!exists(path)) throw new ApiError(404, 'not_found', path);
  progress(1);
  try {
    const res = await fetch(url(path, params), { headers: headers(), credentials: 'same-origin' });
    if (res.ok) return res;
    const err = await apiError(res);
    // No key, a bad one, or one of another scope: ask for an analyst key. A
    // county-bound key outside its county (403 outside_region) is not that.
    if (res.status === 401 || err.code === 'forbidden') onAuth();
    throw err;
  } finally {
    progress(-1);
  }
}

export async function get<T>(path: string, params: Params = {}): Promise<T> {
  const res = await request(path, params);
  return (await res.json()) as T;
}

// post sends a JSON body (an analyst's decision) with the analyst's key and
// returns the answer; a failure is the API's error, as for get.
export async function post<T>(path: string, body: unknown): Promise<T> {
  progress(1);
  try {
    const res = await fetch(url(path), {
      method: 'POST',
      headers: { ...headers(), 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    });
    if (res.ok) return (await res.json()) as T;
    const err = await apiError(res);
    if (res.status === 401 || err.code === 'forbidden') onAuth();
    throw err;
  } finally {
    progress(-1);
  }
}

// publicBytes fetches a public file (a draw's document or CSV) as its exact
// bytes, with no key: anyone may fetch it, and the hashes are of the bytes.
export async function publicBytes(path: string): Promise<Uint8Array<ArrayBuffer>> {
  progress(1);
  try {
    const res = await fetch('/api/v1' + path, { credentials: 'omit', cache: 'no-store' });
    if (!res.ok) throw await apiError(res);
    return new Uint8Array(await res.arrayBuffer());
  } finally {
    progress(-1);
  }
}

// openDocument shows a document the API serves (a warning letter) in a new
// tab, fetched with the analyst's key: a plain link would carry none under
// qcredit serve. The tab opens at the click, so no popup blocker stops it.
export async function openDocument(path: string): Promise<void> {
  const tab = window.open('', '_blank');
  try {
    const res = await request(path.replace(/^\/api\/v1/, ''), {});
    const blob = await res.blob();
    if (tab) tab.location.href = URL.createObjectURL(blob);
  } catch (e) {
    tab?.close();
    throw e;
  }
}

// download saves an export (CSV, XLSX) fetched with the analyst's key.
export async function download(path: string, params: Params, filename: string): Promise<void> {
  const res = await request(path, params);
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// The API's shapes (api/openapi/dashboards.yaml and the analyst routes).
export type Grades = Record<'A' | 'B' | 'C' | 'D', number>;

export interface Run {
  id: string;
  job: string;
  version: number;
  as_of: string;
  status: 'running' | 'succeeded' | 'failed';
  started_at: string;
  finished_at?: string;
  counts: Record<string, number>;
  error?: string;
}

export interface Session {
  dev: boolean;
  analyst: boolean;
  routes?: string[];
}

export interface Overview {
  enterprises: number;
  scored: number;
  grades: Grades;
  score_run: Run | null;
  stats_run: Run | null;
  spot_checks: number;
  spot_check_failures: number;
  complaints_open: number;
  complaints_overdue: number;
  runs: Run[];
}

export interface GradeGroup {
  key: string;
  name: string;
  county?: string;
  industry?: string;
  grades: Grades;
  unscored: number;
  total: number;
  risk_share: number;
}

export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export interface GradeBreakdown extends Page<GradeGroup> {
  by: string;
  as_of?: string;
}

export interface Movement {
  from: Run | null;
  to: Run | null;
  flows: { from: string; to: string; count: number }[];
}

export interface Trend {
  run: Run | null;
  county?: string;
  months: { month: string; checks: number; failures: number; rate: number }[];
}

export interface County {
  county: string;
  name: string;
  enterprises: number;
  grades: Grades;
  events: number;
  spot_checks: number;
  spot_check_failures: number;
  mean_delay_hours: number | null;
  dead_letters: number;
  dead_letter_rate: number;
  complaints_open: number;
  complaints_overdue: number;
  months: { month: string; events: number; dead_letters: number }[];
}

export interface Counties {
  run: Run | null;
  from?: string;
  to?: string;
  counties: County[];
}

export interface SearchHit {
  uscc: string;
  name: string;
  region: string;
  region_name?: string;
  industry: string;
  grade?: string;
  score?: number;
}

export interface Reason {
  rule: string;
  points: number;
  count?: number;
  events?: string[];
  basis: string;
  detail?: string;
}

export interface Score {
  run_id: string;
  as_of: string;
  score: number;
  grade: string;
  grade_label: string;
  reasons?: Reason[];
}

export interface RecordEvent {
  id: string;
  type: string;
  source: string;
  occurred_at: string;
  data?: Record<string, unknown>;
}

export interface CreditFile {
  enterprise: { uscc: string; name: string; region: string; industry: string; cluster?: string; scale?: string; registered_at: string; deregistered: boolean };
  score: Score | null;
  history: Score[];
  records: RecordEvent[];
  records_truncated?: boolean;
  // listings: the listing history, once the lists routes add it.
  listings?: Record<string, unknown>[];
}

// An analyst's decision as stored (api/openapi/decisions.yaml).
export interface Decision {
  id: string;
  type: string;
  uscc?: string;
  source: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

// The planning routes (api/openapi/planning.yaml).
export interface PlanningRun {
  id: string;
  as_of: string;
  model_version: string;
}

// Fraction is num/den with its value (half up to 6 decimals; null when den is 0).
export interface Fraction {
  num: number;
  den: number;
  value: number | null;
}

export interface PlanReason {
  rule: string;
  count?: number;
  basis: string;
  detail?: string;
}

export interface CountyKPI {
  county: string;
  month: string;
  coverage: Fraction;
  complaint_timeliness: Fraction;
  complaint_closure: Fraction;
  hazard_correction: Fraction;
  self_correction: Fraction;
  mean_delay_seconds: number;
  late_reports: Fraction;
  dead_letter_rate: Fraction;
}

export interface KPIView {
  run: PlanningRun;
  kpis: CountyKPI[];
}

export interface OverdueComplaint {
  complaint_id: string;
  uscc?: string;
  county: string;
  stage: 'decision' | 'closure';
  since: string;
  deadline: string;
  estimated?: boolean;
  working_days_late: number;
  reason: PlanReason;
}

export interface SelfCorrectionUnit {
  uscc: string;
  county: string;
  hazards: number;
  self_corrected: number;
  corrected: number;
  open: number;
  rate: number;
  below: boolean;
  reasons?: PlanReason[];
}

export interface OverdueHazard {
  hazard_id: string;
  uscc: string;
  county: string;
  equipment_id: string;
  deadline: string;
  days_overdue: number;
  reason: PlanReason;
}

export interface PlanLine {
  product: string;
  industry?: string;
  checks: number;
  failures: number;
  pass_rate?: number;
  batches: number;
  quarters: [number, number, number, number];
  reasons: PlanReason[];
}

export interface PlanView {
  run: PlanningRun;
  summary: { year: number; batches: number; quarters: number[]; products?: number; from?: string; to?: string; warnings?: number; clusters_run?: string; suggestions?: number };
  lines: PlanLine[];
}
