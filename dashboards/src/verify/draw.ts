// Recomputes a random inspection draw (摇号, 双随机) — or a re-check of newly
// licensed firms, drawn the same way — from what the bureau publishes: the
// document, pool.csv and inspectors.csv, exactly as DOMAIN.md ("The random
// inspection draw") specifies, with WebCrypto for SHA-256 and HMAC-SHA256
// and integer millionths for the decimals. It is a second implementation
// beside the Go one (planning.VerifyDraw, VerifyRecheck): the checks have
// the same names and are made in the same order, so the browser, the CLI
// (qcredit lottery verify) and planning/testdata/verify_draw.py can be
// compared check by check.
import { JSONNumber, JSONValue, parseJSON } from './json';

export const grades = ['A', 'B', 'C', 'D'] as const;
export type Grade = (typeof grades)[number];

export type CheckName =
  | 'document'
  | 'pool.csv'
  | 'pool_sha256'
  | 'inspectors.csv'
  | 'inspectors_sha256'
  | 'rules_sha256'
  | 'commitment'
  | 'beacon'
  | 'drawn'
  | 'inspectors';

export interface Check {
  check: CheckName;
  subject?: string; // the firm a per-firm check is about
  ok: boolean;
  detail: string;
}

export interface DrawnFirm {
  uscc: string;
  grade: string; // "" in a re-check: its pool has no grades
  inspectors: string[];
}

// AddedFirm is a firm a re-check adds for its complaints or problems (fixed
// at creation with its county; it gets inspectors at the draw).
export interface AddedFirm {
  uscc: string;
  county: string;
  inspectors: string[];
}

export type Kind = 'inspection' | 'recheck';

// Published is a draw's document as read: an inspection draw's or a
// re-check's (the fields of the other kind left empty).
export interface Published {
  kind: Kind;
  id: string;
  name: string;
  status: string;
  period: { from: string; to: string }; // an inspection draw's
  year: number; // a re-check's licensing year
  pool_sha256: string;
  inspectors_sha256: string;
  probabilities: Record<Grade, bigint>; // an inspection draw's, millionths
  rate: bigint; // a re-check's, millionths
  exclude_own_county: boolean;
  rules_sha256: string;
  beacon_source: string;
  commitment: string;
  seed: string;
  beacon: string;
  drawn: DrawnFirm[] | null;
  added: AddedFirm[];
}

// Stratum is how many firms of a grade were drawn (a re-check has one,
// with grade "": k = ⌈rate × N⌉).
export interface Stratum {
  grade: Grade | '';
  firms: number;
  probability: string;
  drawn: number;
}

// RecomputedFirm is a firm the recomputation draws, with its u (the first 8
// bytes of its HMAC, hex) and its inspectors.
export interface RecomputedFirm extends DrawnFirm {
  u: string;
}

export interface Verification {
  ok: boolean;
  checks: Check[];
  doc: Published | null;
  // The SHA-256 of the files and of the rules' canonical encoding, as computed here.
  hashes: { pool?: string; inspectors?: string; rules?: string };
  canonicalRules?: string;
  strata: Stratum[];
  recomputed: RecomputedFirm[] | null;
  added: DrawnFirm[] | null; // a re-check's added firms with their recomputed inspectors
}

// Bytes are a file's bytes as fetched (WebCrypto takes them as they are).
export type Bytes = Uint8Array<ArrayBuffer>;

const keyLabel = 'qcredit-draw-v1\n';
const utf8Text = (b: Bytes): string => new TextDecoder('utf-8', { ignoreBOM: true }).decode(b);
const inspectorsPerFirm = 2;
const one = 1_000_000n; // a decimal is a count of millionths

// --- decimals -------------------------------------------------------------

// parseDecimal reads digits with an optional point and one to six decimals
// (planning.ParseDecimal): signs, exponents and a 7th decimal are refused.
export function parseDecimal(s: string): bigint {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) throw new Error(`decimal ${JSON.stringify(s)}: want digits with an optional point and up to 6 decimals`);
  return BigInt(m[1]) * one + BigInt((m[2] ?? '').padEnd(6, '0'));
}

// canonicalDecimal is the shortest plain form: "0", "1", "0.3", "0.073973".
export function canonicalDecimal(d: bigint): string {
  const frac = (d % one).toString().padStart(6, '0').replace(/0+$/, '');
  return (d / one).toString() + (frac ? '.' + frac : '');
}

// roundHalfUp is k = floor(p × n + 1/2), exactly: (2pn + 10⁶) div (2·10⁶).
export function roundHalfUp(p: bigint, n: number): number {
  return Number((2n * p * BigInt(n) + one) / (2n * one));
}

// ceil is a re-check's k = ⌈rate × n⌉ ("at least 10 %"), exactly.
export function ceil(rate: bigint, n: number): number {
  return Number((rate * BigInt(n) + one - 1n) / one);
}

// canonicalRules is the rules' one encoding, the bytes rules_sha256 hashes.
export function canonicalRules(d: Published): string {
  if (d.kind === 'recheck') return `{"rate":${canonicalDecimal(d.rate)},"exclude_own_county":${d.exclude_own_county}}`;
  const ps = grades.map((g) => `"${g}":${canonicalDecimal(d.probabilities[g])}`).join(',');
  return `{"probabilities":{${ps}},"exclude_own_county":${d.exclude_own_county}}`;
}

// --- the document -----------------------------------------------------------

const hashRe = /^[0-9a-f]{64}$/;
const drawIDRe = /^[a-z0-9-]{1,64}$/;

type Obj = { [key: string]: JSONValue };

function object(v: JSONValue | undefined, what: string, fields: string[] | null): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof JSONNumber) throw new Error(`${what}: want an object`);
  if (fields) for (const k of Object.keys(v)) if (!fields.includes(k)) throw new Error(`${what}: unknown field "${k}"`);
  return v;
}

function text(o: Obj, k: string, what = k): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`${what}: want a string`);
  return v;
}

function bool(o: Obj, k: string): boolean {
  const v = o[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new Error(`${k}: want true or false`);
  return v;
}

function strings(v: JSONValue | undefined, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${what}: want a list of strings`);
  return v as string[];
}

function integer(o: Obj, k: string): number {
  const v = o[k];
  if (v === undefined || v === null) return 0;
  if (!(v instanceof JSONNumber) || !/^-?\d+$/.test(v.text)) throw new Error(`${k}: want a whole number`);
  return Number(v.text);
}

function decimal(v: JSONValue | undefined, what: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (!(v instanceof JSONNumber)) throw new Error(`${what}: want a number`);
  return parseDecimal(v.text);
}

function firms<T>(v: JSONValue | undefined, what: string, fields: string[], read: (x: Obj, at: string) => T): T[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new Error(`${what}: want a list`);
  return v.map((f, i) => read(object(f, `${what}[${i}]`, fields), `${what}[${i}]`));
}

const common = ['id', 'name', 'status', 'pool_sha256', 'inspectors_sha256', 'rules', 'rules_sha256', 'beacon_source', 'commitment', 'seed', 'beacon', 'drawn'];
const reasonFields = ['rule', 'points', 'count', 'events', 'basis', 'windows', 'detail'];

// parseDocument reads a published document as planning.ParseDraw (or
// ParseRecheck) does: unknown fields refused, absent ones empty (the
// validation then says what is missing).
export function parseDocument(body: string, kind: Kind): Published {
  const o = object(parseJSON(body), kind === 'recheck' ? 're-check document' : 'draw document', null);
  const d: Published = {
    kind, id: '', name: '', status: '', period: { from: '', to: '' }, year: 0, pool_sha256: '', inspectors_sha256: '',
    probabilities: { A: 0n, B: 0n, C: 0n, D: 0n }, rate: 0n, exclude_own_county: false, rules_sha256: '', beacon_source: '',
    commitment: '', seed: '', beacon: '', drawn: null, added: [],
  };
  for (const k of ['id', 'name', 'status', 'pool_sha256', 'inspectors_sha256', 'rules_sha256', 'beacon_source', 'commitment', 'seed', 'beacon'] as const) d[k] = text(o, k);
  if (kind === 'inspection') {
    object(o, 'draw document', [...common, 'period']);
    const period = object(o.period ?? {}, 'period', null);
    d.period = { from: text(period, 'from', 'period'), to: text(period, 'to', 'period') };
    const rules = object(o.rules ?? {}, 'rules', ['probabilities', 'exclude_own_county']);
    const probs = object(rules.probabilities ?? {}, 'probabilities', [...grades]);
    for (const g of grades) {
      if (!(probs[g] instanceof JSONNumber)) throw new Error('probabilities: want A, B, C and D as numbers');
      d.probabilities[g] = decimal(probs[g], 'probability of ' + g);
    }
    d.exclude_own_county = bool(rules, 'exclude_own_county');
    d.drawn = firms(o.drawn, 'drawn', ['uscc', 'grade', 'inspectors'], (x, at) => ({ uscc: text(x, 'uscc'), grade: text(x, 'grade'), inspectors: strings(x.inspectors, at + '.inspectors') }));
  } else {
    object(o, 're-check document', [...common, 'year', 'added']);
    d.year = integer(o, 'year');
    const rules = object(o.rules ?? {}, 'rules', ['rate', 'exclude_own_county']);
    d.rate = decimal(rules.rate, 'rate');
    d.exclude_own_county = bool(rules, 'exclude_own_county');
    d.drawn = firms(o.drawn, 'drawn', ['uscc', 'inspectors'], (x, at) => ({ uscc: text(x, 'uscc'), grade: '', inspectors: strings(x.inspectors, at + '.inspectors') }));
    d.added = firms(o.added, 'added', ['uscc', 'county', 'reasons', 'inspectors'], (x, at) => {
      const reasons = x.reasons ?? [];
      if (!Array.isArray(reasons)) throw new Error(at + '.reasons: want a list');
      reasons.forEach((r, i) => object(r, `${at}.reasons[${i}]`, reasonFields));
      if (!reasons.length) throw new Error(`added firm ${text(x, 'uscc')} has no reason`);
      return { uscc: text(x, 'uscc'), county: text(x, 'county'), inspectors: strings(x.inspectors, at + '.inspectors') };
    }) ?? [];
  }
  return d;
}

// drawKind tells an inspection draw from a re-check (it names the
// licensing year of its pool) and an agency assignment (it names its plan;
// this module does not recompute those), as pipelines.KindOf does.
export function drawKind(document: Bytes): 'inspection' | 'recheck' | 'assignment' {
  try {
    const o = JSON.parse(utf8Text(document)) as Record<string, unknown>;
    if (o && typeof o === 'object' && 'year' in o) return 'recheck';
    if (o && typeof o === 'object' && 'plan' in o) return 'assignment';
  } catch {
    /* not JSON: the document check says so */
  }
  return 'inspection';
}

function civilDay(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  const d = new Date(t);
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3] ? t / 86_400_000 : null;
}

// validateDocument says what is wrong with the document's own fields
// (planning.Draw.Validate, Recheck.Validate).
export function validateDocument(d: Published): string[] {
  const errs: string[] = [];
  if (!drawIDRe.test(d.id)) errs.push(`draw id ${JSON.stringify(d.id)}: want 1–64 characters of a–z, 0–9 and -`);
  if (d.kind === 'inspection') {
    const from = civilDay(d.period.from);
    const to = civilDay(d.period.to);
    if (from === null || to === null) errs.push(`period ${d.period.from} to ${d.period.to}: want YYYY-MM-DD`);
    else if (to < from) errs.push(`period ends (${d.period.to}) before it starts (${d.period.from})`);
    else if (to - from + 1 > 3660) errs.push(`period of ${to - from + 1} days is longer than ten years`);
    for (const g of grades) if (d.probabilities[g] > one) errs.push(`probability of grade ${g} is ${canonicalDecimal(d.probabilities[g])}, want 0–1`);
  } else {
    if (d.rate <= 0n || d.rate > one) errs.push(`rate ${canonicalDecimal(d.rate)}: want more than 0, at most 1`);
    if (d.year < 2000 || d.year > 9999) errs.push(`year ${d.year}: want the licensing year`);
    for (const a of d.added) {
      if (!usccAlphabet.test(a.uscc)) errs.push(`added firm ${JSON.stringify(a.uscc)}: want 18 characters of 0–9 and A–Y without I, O, S, V, Z`);
      if (!countyRe.test(a.county)) errs.push(`added firm ${a.uscc}: county ${JSON.stringify(a.county)}: want a six-digit GB/T 2260 code`);
    }
  }
  for (const [k, v] of [['pool_sha256', d.pool_sha256], ['inspectors_sha256', d.inspectors_sha256], ['rules_sha256', d.rules_sha256], ['commitment', d.commitment]])
    if (!hashRe.test(v)) errs.push(`${k}: want 64 lowercase hex digits`);
  if (!d.name.trim()) errs.push('name is required');
  if (!d.beacon_source.trim()) errs.push('beacon source is required');
  if (d.status !== 'committed' && d.status !== 'drawn') errs.push(`status ${JSON.stringify(d.status)}: want committed or drawn`);
  if (d.status === 'committed' && (d.drawn !== null || d.seed || d.beacon)) errs.push('a committed draw publishes no seed, beacon or result yet');
  if (d.status === 'drawn' && (d.drawn === null || !d.seed || !d.beacon)) errs.push('a drawn draw publishes its seed, beacon and result');
  return errs;
}

// --- the files ----------------------------------------------------------------

// spaces: what the beacon is trimmed of and a file's fields may not start or
// end with — Go's unicode.IsSpace set, spelled out (JavaScript's trim()
// would also trim U+FEFF and not U+0085).
const spaces = '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

const usccAlphabet = /^[0-9ABCDEFGHJKLMNPQRTUWXY]{18}$/;
const idRe = /^[A-Za-z0-9._-]{1,64}$/;
const countyRe = /^\d{6}$/;

// parseCSV reads a file in the one published form (UTF-8 without BOM, LF,
// the header, a final LF, no quoting) and returns its rows.
function parseCSV(name: string, b: Bytes, header: string[]): string[][] {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) throw new Error(`${name}: starts with a byte-order mark (BOM); the file must be UTF-8 without one`);
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    throw new Error(`${name}: not valid UTF-8`);
  }
  if (s.includes('\r')) throw new Error(`${name}: has a CR; lines must end with LF alone`);
  if (!s.endsWith('\n')) throw new Error(`${name}: must end with a line feed`);
  const lines = s.slice(0, -1).split('\n');
  if (lines[0] !== header.join(',')) throw new Error(`${name} line 1: header is ${JSON.stringify(lines[0])}, want ${JSON.stringify(header.join(','))}`);
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    if (f.length !== header.length) throw new Error(`${name} line ${i + 2}: ${f.length} fields, want ${header.length} (${header.join(',')})`);
    f.forEach((v, j) => {
      if (v === '' || spaces.includes(v[0]) || spaces.includes(v[v.length - 1])) throw new Error(`${name} line ${i + 2}: ${header[j]}: ${JSON.stringify(v)} is empty or has surrounding spaces`);
      if (/["\n\r]/.test(v)) throw new Error(`${name} line ${i + 2}: ${header[j]}: ${JSON.stringify(v)} contains a quote or line break`);
    });
    return f;
  });
}

function sortedOnce(name: string, rows: string[][], what: string): void {
  for (let i = 1; i < rows.length; i++)
    if (rows[i][0] <= rows[i - 1][0]) throw new Error(`${name} line ${i + 2}: ${rows[i][0]} is not after ${rows[i - 1][0]} (sorted by ${what}, each once)`);
}

export interface PoolFirm {
  uscc: string;
  grade: Grade | ''; // "" in a re-check's pool (uscc,county)
  county: string;
}

export function parsePool(b: Bytes): PoolFirm[] {
  const rows = parseCSV('pool.csv', b, ['uscc', 'grade', 'county']);
  rows.forEach(([uscc, grade, county], i) => {
    const at = `pool.csv line ${i + 2}`;
    if (!usccAlphabet.test(uscc)) throw new Error(`${at}: uscc ${JSON.stringify(uscc)}: want 18 characters of 0–9 and A–Y without I, O, S, V, Z`);
    if (!(grades as readonly string[]).includes(grade)) throw new Error(`${at}: firm ${uscc}: grade ${JSON.stringify(grade)} is not A, B, C or D`);
    if (!countyRe.test(county)) throw new Error(`${at}: firm ${uscc}: county ${JSON.stringify(county)}: want a six-digit GB/T 2260 code`);
  });
  sortedOnce('pool.csv', rows, 'USCC');
  return rows.map(([uscc, grade, county]) => ({ uscc, grade: grade as Grade, county }));
}

// parseRecheckPool reads a re-check's pool: `uscc,county`, by USCC.
export function parseRecheckPool(b: Bytes): PoolFirm[] {
  const rows = parseCSV('pool.csv', b, ['uscc', 'county']);
  rows.forEach(([uscc, county], i) => {
    const at = `pool.csv line ${i + 2}`;
    if (!usccAlphabet.test(uscc)) throw new Error(`${at}: uscc ${JSON.stringify(uscc)}: want 18 characters of 0–9 and A–Y without I, O, S, V, Z`);
    if (!countyRe.test(county)) throw new Error(`${at}: county ${JSON.stringify(county)}: want a six-digit GB/T 2260 code`);
  });
  sortedOnce('pool.csv', rows, 'USCC');
  return rows.map(([uscc, county]) => ({ uscc, grade: '', county }));
}

export interface Inspector {
  id: string;
  county: string;
}

export function parseInspectors(b: Bytes): Inspector[] {
  const rows = parseCSV('inspectors.csv', b, ['inspector_id', 'county']);
  rows.forEach(([id, county], i) => {
    const at = `inspectors.csv line ${i + 2}`;
    if (!idRe.test(id)) throw new Error(`${at}: inspector id ${JSON.stringify(id)}: want 1–64 characters of A–Z a–z 0–9 . _ -`);
    if (!countyRe.test(county)) throw new Error(`${at}: inspector ${id}: county ${JSON.stringify(county)}: want a six-digit GB/T 2260 code`);
  });
  sortedOnce('inspectors.csv', rows, 'id');
  return rows.map(([id, county]) => ({ id, county }));
}

// --- the randomness -------------------------------------------------------------

export function normaliseBeacon(s: string): string {
  const n = s.normalize('NFC');
  let a = 0;
  let b = n.length;
  while (a < b && spaces.includes(n[a])) a++;
  while (b > a && spaces.includes(n[b - 1])) b--;
  return n.slice(a, b);
}

const utf8 = new TextEncoder();

function hex(b: ArrayBuffer | Bytes): string {
  return [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(b: Bytes | string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', typeof b === 'string' ? utf8.encode(b) : b));
}

function hmacKey(raw: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

async function hmac(key: CryptoKey, message: string): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8.encode(message)));
}

// drawKey is key = HMAC-SHA256(seed, "qcredit-draw-v1\n" + beacon), made a key for the scores.
async function drawKey(seed: Bytes, beacon: string): Promise<CryptoKey> {
  return hmacKey(await hmac(await hmacKey(seed), keyLabel + beacon));
}

// score is u: the first 8 bytes of HMAC-SHA256(key, message), big-endian, unsigned.
async function score(key: CryptoKey, message: string): Promise<bigint> {
  const mac = await hmac(key, message);
  return new DataView(mac.buffer, mac.byteOffset, 8).getBigUint64(0, false);
}

// scores computes u for every message, a batch at a time (a pool of a
// hundred thousand firms is as many HMACs), reporting progress.
async function scores(key: CryptoKey, messages: string[], progress?: (done: number) => void): Promise<bigint[]> {
  const out: bigint[] = [];
  const batch = 4096;
  for (let i = 0; i < messages.length; i += batch) {
    out.push(...(await Promise.all(messages.slice(i, i + batch).map((m) => score(key, m)))));
    progress?.(out.length);
  }
  return out;
}

const byScore = <T extends { u: bigint; id: string }>(a: T, b: T): number => (a.u < b.u ? -1 : a.u > b.u ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// --- the recomputation ----------------------------------------------------------

export interface Progress {
  (what: 'firms' | 'inspectors', done: number, total: number): void;
}

type Scored = { firm: PoolFirm; u: bigint; id: string };

// smallest is the k firms with the smallest u (ties by USCC), by u.
function smallest(firms: Scored[], k: number): Scored[] {
  return [...firms].sort(byScore).slice(0, k);
}

// pickInspectors is a firm's two eligible inspectors with the smallest
// score (ties by id); eligible: not of the firm's county when the rule
// says so; fewer than two eligible gives those there are.
async function pickInspectors(key: CryptoKey, d: Published, uscc: string, county: string, inspectors: Inspector[]): Promise<string[]> {
  const eligible = inspectors.filter((x) => !(d.exclude_own_county && x.county === county));
  const su = await scores(key, eligible.map((x) => `${d.id}\ninspector\n${uscc}\n${x.id}`));
  return eligible.map((x, j) => ({ id: x.id, u: su[j] })).sort(byScore).slice(0, inspectorsPerFirm).map((x) => x.id);
}

// recompute is steps 2–3: an inspection draw takes per grade the
// k_g = floor(p_g × N_g + 1/2) firms with the smallest u, listed by grade
// then u; a re-check the k = ⌈rate × N⌉ firms of its pool with the smallest
// u. Each drawn (and added) firm gets its inspectors.
export async function recompute(key: CryptoKey, d: Published, pool: PoolFirm[], inspectors: Inspector[], progress?: Progress):
  Promise<{ strata: Stratum[]; drawn: RecomputedFirm[]; added: DrawnFirm[] }> {
  const u = await scores(key, pool.map((f) => d.id + '\n' + f.uscc), (n) => progress?.('firms', n, pool.length));
  const all = pool.map((firm, i) => ({ firm, u: u[i], id: firm.uscc }));
  const strata: Stratum[] = [];
  const chosen: Scored[] = [];
  if (d.kind === 'recheck') {
    const k = ceil(d.rate, all.length);
    strata.push({ grade: '', firms: all.length, probability: canonicalDecimal(d.rate), drawn: k });
    chosen.push(...smallest(all, k));
  } else {
    for (const g of grades) {
      const of = all.filter((x) => x.firm.grade === g);
      const k = roundHalfUp(d.probabilities[g], of.length);
      strata.push({ grade: g, firms: of.length, probability: canonicalDecimal(d.probabilities[g]), drawn: k });
      chosen.push(...smallest(of, k));
    }
  }
  const drawn: RecomputedFirm[] = [];
  for (const [i, c] of chosen.entries()) {
    drawn.push({ uscc: c.firm.uscc, grade: c.firm.grade, inspectors: await pickInspectors(key, d, c.firm.uscc, c.firm.county, inspectors), u: c.u.toString(16).padStart(16, '0') });
    progress?.('inspectors', i + 1, chosen.length + d.added.length);
  }
  const added: DrawnFirm[] = [];
  for (const a of d.added) added.push({ uscc: a.uscc, grade: '', inspectors: await pickInspectors(key, d, a.uscc, a.county, inspectors) });
  return { strata, drawn, added };
}

// compareSelection reports the drawn list (set, grades, order) as
// planning's compareSelection does.
function compareSelection(checks: Check[], published: DrawnFirm[], want: DrawnFirm[]): void {
  const label = (f: DrawnFirm) => f.grade || 'drawn';
  const pubBy = new Map(published.map((f) => [f.uscc, f]));
  const wantBy = new Map(want.map((f) => [f.uscc, f]));
  const problems: string[] = [];
  for (const w of want) {
    const p = pubBy.get(w.uscc);
    if (!p) problems.push(`${w.uscc} (${label(w)}) is missing`);
    else if (label(p) !== label(w)) problems.push(`${w.uscc} is published as ${label(p)}, recomputed as ${label(w)}`);
  }
  for (const p of published) if (!wantBy.has(p.uscc)) problems.push(`${p.uscc} (${label(p)}) was not drawn`);
  if (pubBy.size !== published.length) problems.push('an entry appears twice');
  if (!problems.length && published.some((p, i) => p.uscc !== want[i].uscc)) problems.push('the right entries in the wrong order');
  if (problems.length) checks.push({ check: 'drawn', ok: false, detail: `published ${published.length} firms, recomputed ${want.length}: ${problems.join('; ')}` });
  else checks.push({ check: 'drawn', ok: true, detail: `${want.length} firms recomputed, the same and in the same order` });
}

// compareInspectors checks the inspectors of every firm published and
// recomputed alike (a later entry of the same firm wins, as in Go).
function compareInspectors(checks: Check[], published: DrawnFirm[], want: DrawnFirm[]): void {
  const wantBy = new Map(want.map((f) => [f.uscc, f.inspectors]));
  let checked = 0;
  let failed = false;
  for (const p of published) {
    const w = wantBy.get(p.uscc);
    if (!w) continue;
    checked++;
    if (p.inspectors.join(' ') !== w.join(' ')) {
      failed = true;
      checks.push({ check: 'inspectors', subject: p.uscc, ok: false, detail: `published [${p.inspectors.join(' ')}], recomputed [${w.join(' ')}]` });
    }
  }
  if (!failed) checks.push({ check: 'inspectors', ok: true, detail: `the inspectors of ${checked} firms recomputed, the same` });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// verify recomputes an inspection draw or a re-check from its three
// published files alone. A committed one verifies its files and rules; a
// drawn one also its commitment, beacon, drawn firms and every firm's
// inspectors.
export async function verify(document: Bytes, poolCSV: Bytes, inspectorsCSV: Bytes, progress?: Progress): Promise<Verification> {
  const checks: Check[] = [];
  const v: Verification = { ok: false, checks, doc: null, hashes: {}, strata: [], recomputed: null, added: null };
  const done = (): Verification => ((v.ok = checks.length > 0 && checks.every((c) => c.ok)), v);
  const kind = drawKind(document) === 'recheck' ? 'recheck' : 'inspection';
  let d: Published;
  try {
    d = parseDocument(utf8Text(document), kind);
  } catch (e) {
    checks.push({ check: 'document', ok: false, detail: message(e) });
    return done();
  }
  v.doc = d;
  const errs = validateDocument(d);
  checks.push(errs.length ? { check: 'document', ok: false, detail: errs.join('; ') } : { check: 'document', ok: true, detail: 'the document is well formed' });
  if (errs.length) return done();

  let pool: PoolFirm[] | null = null;
  try {
    pool = kind === 'recheck' ? parseRecheckPool(poolCSV) : parsePool(poolCSV);
    checks.push({ check: 'pool.csv', ok: true, detail: `${pool.length} firms, sorted by USCC` });
  } catch (e) {
    checks.push({ check: 'pool.csv', ok: false, detail: message(e) });
  }
  v.hashes.pool = await sha256Hex(poolCSV);
  checks.push(hashCheck('pool_sha256', 'pool.csv', v.hashes.pool, d.pool_sha256));
  let inspectors: Inspector[] | null = null;
  try {
    inspectors = parseInspectors(inspectorsCSV);
    checks.push({ check: 'inspectors.csv', ok: true, detail: `${inspectors.length} inspectors, sorted by id` });
  } catch (e) {
    checks.push({ check: 'inspectors.csv', ok: false, detail: message(e) });
  }
  v.hashes.inspectors = await sha256Hex(inspectorsCSV);
  checks.push(hashCheck('inspectors_sha256', 'inspectors.csv', v.hashes.inspectors, d.inspectors_sha256));
  v.canonicalRules = canonicalRules(d);
  v.hashes.rules = await sha256Hex(v.canonicalRules);
  checks.push(v.hashes.rules === d.rules_sha256
    ? { check: 'rules_sha256', ok: true, detail: "the rules' canonical encoding hashes to the published SHA-256" }
    : { check: 'rules_sha256', ok: false, detail: `the rules' canonical encoding ${v.canonicalRules} hashes to ${v.hashes.rules}, published ${d.rules_sha256}` });
  if (d.status !== 'drawn') return done();

  const key = await revealedKey(checks, d);
  if (!key || !pool || !inspectors) return done(); // nothing to recompute from
  const r = await recompute(key, d, pool, inspectors, progress);
  v.strata = r.strata;
  v.recomputed = r.drawn;
  compareSelection(checks, d.drawn ?? [], r.drawn);
  if (kind === 'recheck') {
    v.added = r.added;
    compareInspectors(checks, [...(d.drawn ?? []), ...d.added.map((a) => ({ uscc: a.uscc, grade: '', inspectors: a.inspectors }))], [...r.drawn, ...r.added]);
  } else {
    compareInspectors(checks, d.drawn ?? [], r.drawn);
  }
  return done();
}

// revealedKey checks the seed against the commitment and the beacon's form,
// and returns the draw's key (null when none can be made).
async function revealedKey(checks: Check[], d: Published): Promise<CryptoKey | null> {
  if (!hashRe.test(d.seed)) {
    checks.push({ check: 'commitment', ok: false, detail: `seed ${JSON.stringify(d.seed)}: want 64 lowercase hex digits` });
    return null;
  }
  const seed = Uint8Array.from(d.seed.match(/../g)!.map((x) => parseInt(x, 16)));
  const commitment = await sha256Hex(seed);
  checks.push(commitment === d.commitment
    ? { check: 'commitment', ok: true, detail: 'SHA-256 of the seed is the commitment' }
    : { check: 'commitment', ok: false, detail: `SHA-256 of the published seed is ${commitment}, the commitment published at creation is ${d.commitment}` });
  const beacon = normaliseBeacon(d.beacon);
  if (!beacon) {
    checks.push({ check: 'beacon', ok: false, detail: 'beacon is empty' });
    return null;
  }
  checks.push(beacon === d.beacon
    ? { check: 'beacon', ok: true, detail: 'beacon is NFC and trimmed' }
    : { check: 'beacon', ok: false, detail: `published beacon ${JSON.stringify(d.beacon)} is not in normal form (NFC, trimmed): ${JSON.stringify(beacon)}` });
  return drawKey(seed, beacon);
}

function hashCheck(check: CheckName, file: string, got: string, published: string): Check {
  return got === published
    ? { check, ok: true, detail: `${file} hashes to the published SHA-256` }
    : { check, ok: false, detail: `${file} hashes to ${got}, published ${published}` };
}
