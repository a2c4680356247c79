// Recomputes a random inspection draw (摇号, 双随机) from what the bureau
// publishes — the document, pool.csv and inspectors.csv — exactly as
// DOMAIN.md ("The random inspection draw") specifies, with WebCrypto for
// SHA-256 and HMAC-SHA256 and integer millionths for the decimals. It is a
// second implementation beside the Go one (planning.VerifyDraw): the checks
// have the same names and are made in the same order, so the browser, the
// CLI (qcredit lottery verify) and planning/testdata/verify_draw.py can be
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
  grade: string;
  inspectors: string[];
}

export interface PublishedDraw {
  id: string;
  name: string;
  status: string;
  period: { from: string; to: string };
  pool_sha256: string;
  inspectors_sha256: string;
  probabilities: Record<Grade, bigint>; // millionths
  exclude_own_county: boolean;
  rules_sha256: string;
  beacon_source: string;
  commitment: string;
  seed: string;
  beacon: string;
  drawn: DrawnFirm[] | null;
}

export interface Stratum {
  grade: Grade;
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
  draw: PublishedDraw | null;
  // The SHA-256 of the files and of the rules' canonical encoding, as computed here.
  hashes: { pool?: string; inspectors?: string; rules?: string };
  canonicalRules?: string;
  strata: Stratum[];
  recomputed: RecomputedFirm[] | null;
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

export function canonicalRules(probabilities: Record<Grade, bigint>, excludeOwnCounty: boolean): string {
  const ps = grades.map((g) => `"${g}":${canonicalDecimal(probabilities[g])}`).join(',');
  return `{"probabilities":{${ps}},"exclude_own_county":${excludeOwnCounty}}`;
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

const drawFields = ['id', 'name', 'status', 'period', 'pool_sha256', 'inspectors_sha256', 'rules', 'rules_sha256', 'beacon_source', 'commitment', 'seed', 'beacon', 'drawn'];

// parseDraw reads a published document as planning.ParseDraw does: unknown
// fields refused, absent ones empty (Validate then says what is missing).
export function parseDraw(body: string): PublishedDraw {
  const o = object(parseJSON(body), 'draw document', null);
  object(o, 'draw document', drawFields);
  const period = object(o.period ?? {}, 'period', null);
  const rules = object(o.rules ?? {}, 'rules', ['probabilities', 'exclude_own_county']);
  const probs = object(rules.probabilities ?? {}, 'probabilities', [...grades]);
  const probabilities = {} as Record<Grade, bigint>;
  for (const g of grades) {
    const v = probs[g];
    if (!(v instanceof JSONNumber)) throw new Error(`probabilities: want A, B, C and D as numbers`);
    probabilities[g] = parseDecimal(v.text);
  }
  let drawn: DrawnFirm[] | null = null;
  if (o.drawn !== undefined && o.drawn !== null) {
    if (!Array.isArray(o.drawn)) throw new Error('drawn: want a list');
    drawn = o.drawn.map((f, i) => {
      const x = object(f, `drawn[${i}]`, ['uscc', 'grade', 'inspectors']);
      return { uscc: text(x, 'uscc'), grade: text(x, 'grade'), inspectors: strings(x.inspectors, `drawn[${i}].inspectors`) };
    });
  }
  return {
    id: text(o, 'id'), name: text(o, 'name'), status: text(o, 'status'),
    period: { from: text(period, 'from', 'period'), to: text(period, 'to', 'period') },
    pool_sha256: text(o, 'pool_sha256'), inspectors_sha256: text(o, 'inspectors_sha256'),
    probabilities, exclude_own_county: bool(rules, 'exclude_own_county'), rules_sha256: text(o, 'rules_sha256'),
    beacon_source: text(o, 'beacon_source'), commitment: text(o, 'commitment'), seed: text(o, 'seed'), beacon: text(o, 'beacon'),
    drawn,
  };
}

// drawKind tells an inspection draw from a re-check (its pool is the
// firms licensed in a year: "year", "added") and an agency assignment
// ("batches_sha256"), which this page does not recompute.
export function drawKind(document: Bytes): 'inspection' | 'recheck' | 'assignment' {
  try {
    const o = JSON.parse(utf8Text(document)) as Record<string, unknown>;
    if ('batches_sha256' in o) return 'assignment';
    if ('year' in o || 'added' in o) return 'recheck';
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

// validateDraw says what is wrong with the document's own fields (planning.Draw.Validate).
export function validateDraw(d: PublishedDraw): string[] {
  const errs: string[] = [];
  if (!drawIDRe.test(d.id)) errs.push(`draw id ${JSON.stringify(d.id)}: want 1–64 characters of a–z, 0–9 and -`);
  const from = civilDay(d.period.from);
  const to = civilDay(d.period.to);
  if (from === null || to === null) errs.push(`period ${d.period.from} to ${d.period.to}: want YYYY-MM-DD`);
  else if (to < from) errs.push(`period ends (${d.period.to}) before it starts (${d.period.from})`);
  else if (to - from + 1 > 3660) errs.push(`period of ${to - from + 1} days is longer than ten years`);
  for (const g of grades) if (d.probabilities[g] > one) errs.push(`probability of grade ${g} is ${canonicalDecimal(d.probabilities[g])}, want 0–1`);
  for (const [k, v] of [['pool_sha256', d.pool_sha256], ['inspectors_sha256', d.inspectors_sha256], ['rules_sha256', d.rules_sha256], ['commitment', d.commitment]])
    if (!hashRe.test(v)) errs.push(`${k}: want 64 lowercase hex digits`);
  if (!d.name.trim()) errs.push('draw name is required');
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
  grade: Grade;
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

// recompute is steps 2–3: per grade the k_g = floor(p_g × N_g + 1/2) firms
// with the smallest u (ties by USCC), listed by grade then u; each with the
// two eligible inspectors of smallest score (ties by id), eligible meaning
// not of the firm's county when the rule says so.
export async function recompute(key: CryptoKey, d: PublishedDraw, pool: PoolFirm[], inspectors: Inspector[], progress?: Progress): Promise<{ strata: Stratum[]; drawn: RecomputedFirm[] }> {
  const u = await scores(key, pool.map((f) => d.id + '\n' + f.uscc), (n) => progress?.('firms', n, pool.length));
  const strata: Stratum[] = [];
  const chosen: { firm: PoolFirm; u: bigint }[] = [];
  for (const g of grades) {
    const firms = pool.map((firm, i) => ({ firm, u: u[i], id: firm.uscc })).filter((x) => x.firm.grade === g);
    const k = roundHalfUp(d.probabilities[g], firms.length);
    strata.push({ grade: g, firms: firms.length, probability: canonicalDecimal(d.probabilities[g]), drawn: k });
    chosen.push(...firms.sort(byScore).slice(0, k));
  }
  const drawn: RecomputedFirm[] = [];
  for (const [i, c] of chosen.entries()) {
    const eligible = inspectors.filter((x) => !(d.exclude_own_county && x.county === c.firm.county));
    const su = await scores(key, eligible.map((x) => `${d.id}\ninspector\n${c.firm.uscc}\n${x.id}`));
    const best = eligible.map((x, j) => ({ id: x.id, u: su[j] })).sort(byScore).slice(0, inspectorsPerFirm);
    drawn.push({ uscc: c.firm.uscc, grade: c.firm.grade, inspectors: best.map((x) => x.id), u: c.u.toString(16).padStart(16, '0') });
    progress?.('inspectors', i + 1, chosen.length);
  }
  return { strata, drawn };
}

// compareDrawn reports the drawn list (set, grades, order), then each firm's
// inspectors, as planning's compareSelection and compareInspectors do.
function compareDrawn(checks: Check[], published: DrawnFirm[], want: DrawnFirm[]): void {
  const pubBy = new Map(published.map((f) => [f.uscc, f]));
  const wantBy = new Map(want.map((f) => [f.uscc, f]));
  const problems: string[] = [];
  for (const w of want) {
    const p = pubBy.get(w.uscc);
    if (!p) problems.push(`${w.uscc} (${w.grade}) is missing`);
    else if (p.grade !== w.grade) problems.push(`${w.uscc} is published as ${p.grade}, recomputed as ${w.grade}`);
  }
  for (const p of published) if (!wantBy.has(p.uscc)) problems.push(`${p.uscc} (${p.grade}) was not drawn`);
  if (pubBy.size !== published.length) problems.push('an entry appears twice');
  if (!problems.length && published.some((p, i) => p.uscc !== want[i].uscc)) problems.push('the right entries in the wrong order');
  if (problems.length) checks.push({ check: 'drawn', ok: false, detail: `published ${published.length} firms, recomputed ${want.length}: ${problems.join('; ')}` });
  else checks.push({ check: 'drawn', ok: true, detail: `${want.length} firms recomputed, the same and in the same order` });
  let checked = 0;
  let failed = false;
  for (const p of published) {
    const w = wantBy.get(p.uscc);
    if (!w) continue;
    checked++;
    if (p.inspectors.join(' ') !== w.inspectors.join(' ')) {
      failed = true;
      checks.push({ check: 'inspectors', subject: p.uscc, ok: false, detail: `published [${p.inspectors.join(' ')}], recomputed [${w.inspectors.join(' ')}]` });
    }
  }
  if (!failed) checks.push({ check: 'inspectors', ok: true, detail: `the inspectors of ${checked} firms recomputed, the same` });
}

// verifyDraw recomputes a draw from its three published files alone. A
// committed draw verifies its files and rules; a drawn one also its
// commitment, beacon, drawn firms and every firm's inspectors.
export async function verifyDraw(document: Bytes, poolCSV: Bytes, inspectorsCSV: Bytes, progress?: Progress): Promise<Verification> {
  const checks: Check[] = [];
  const v: Verification = { ok: false, checks, draw: null, hashes: {}, strata: [], recomputed: null };
  const done = (): Verification => ((v.ok = checks.length > 0 && checks.every((c) => c.ok)), v);
  let d: PublishedDraw;
  try {
    d = parseDraw(utf8Text(document));
  } catch (e) {
    checks.push({ check: 'document', ok: false, detail: e instanceof Error ? e.message : String(e) });
    return done();
  }
  v.draw = d;
  const errs = validateDraw(d);
  checks.push(errs.length ? { check: 'document', ok: false, detail: errs.join('; ') } : { check: 'document', ok: true, detail: 'the document is well formed' });
  if (errs.length) return done();

  let pool: PoolFirm[] | null = null;
  try {
    pool = parsePool(poolCSV);
    checks.push({ check: 'pool.csv', ok: true, detail: `${pool.length} firms, sorted by USCC` });
  } catch (e) {
    checks.push({ check: 'pool.csv', ok: false, detail: (e as Error).message });
  }
  v.hashes.pool = await sha256Hex(poolCSV);
  checks.push(hashCheck('pool_sha256', 'pool.csv', v.hashes.pool, d.pool_sha256));
  let inspectors: Inspector[] | null = null;
  try {
    inspectors = parseInspectors(inspectorsCSV);
    checks.push({ check: 'inspectors.csv', ok: true, detail: `${inspectors.length} inspectors, sorted by id` });
  } catch (e) {
    checks.push({ check: 'inspectors.csv', ok: false, detail: (e as Error).message });
  }
  v.hashes.inspectors = await sha256Hex(inspectorsCSV);
  checks.push(hashCheck('inspectors_sha256', 'inspectors.csv', v.hashes.inspectors, d.inspectors_sha256));
  v.canonicalRules = canonicalRules(d.probabilities, d.exclude_own_county);
  v.hashes.rules = await sha256Hex(v.canonicalRules);
  checks.push(v.hashes.rules === d.rules_sha256
    ? { check: 'rules_sha256', ok: true, detail: "the rules' canonical encoding hashes to the published SHA-256" }
    : { check: 'rules_sha256', ok: false, detail: `the rules' canonical encoding ${v.canonicalRules} hashes to ${v.hashes.rules}, published ${d.rules_sha256}` });
  if (d.status !== 'drawn') return done();

  if (!hashRe.test(d.seed)) {
    checks.push({ check: 'commitment', ok: false, detail: `seed ${JSON.stringify(d.seed)}: want 64 lowercase hex digits` });
    return done();
  }
  const seed = Uint8Array.from(d.seed.match(/../g)!.map((x) => parseInt(x, 16)));
  const commitment = await sha256Hex(seed);
  checks.push(commitment === d.commitment
    ? { check: 'commitment', ok: true, detail: 'SHA-256 of the seed is the commitment' }
    : { check: 'commitment', ok: false, detail: `SHA-256 of the published seed is ${commitment}, the commitment published at creation is ${d.commitment}` });
  const beacon = normaliseBeacon(d.beacon);
  if (!beacon) {
    checks.push({ check: 'beacon', ok: false, detail: 'beacon is empty' });
    return done();
  }
  checks.push(beacon === d.beacon
    ? { check: 'beacon', ok: true, detail: 'beacon is NFC and trimmed' }
    : { check: 'beacon', ok: false, detail: `published beacon ${JSON.stringify(d.beacon)} is not in normal form (NFC, trimmed): ${JSON.stringify(beacon)}` });
  if (!pool || !inspectors) return done(); // nothing to recompute from

  const r = await recompute(await drawKey(seed, beacon), d, pool, inspectors, progress);
  v.strata = r.strata;
  v.recomputed = r.drawn;
  compareDrawn(checks, d.drawn ?? [], r.drawn);
  return done();
}

function hashCheck(check: CheckName, file: string, got: string, published: string): Check {
  return got === published
    ? { check, ok: true, detail: `${file} hashes to the published SHA-256` }
    : { check, ok: false, detail: `${file} hashes to ${got}, published ${published}` };
}
