// Adapters for the routes other parts of qcredit add (lists, clusters,
// planning): they read the documented shapes and tolerate a list given as
// an array or under items/entries/warnings.
export function items<T>(body: unknown, ...fields: string[]): T[] {
  if (Array.isArray(body)) return body as T[];
  const o = body as Record<string, unknown>;
  for (const f of [...fields, 'items', 'entries', 'warnings', 'changes']) if (Array.isArray(o?.[f])) return o[f] as T[];
  return [];
}

export function field(o: unknown, ...path: string[]): unknown {
  let v: unknown = o;
  for (const p of path) v = (v as Record<string, unknown>)?.[p];
  return v;
}

export function str(o: unknown, ...path: string[]): string {
  const v = field(o, ...path);
  return v === undefined || v === null ? '' : String(v);
}

export const levels = ['red', 'orange', 'yellow', 'blue'] as const;
export const levelColors: Record<string, string> = { red: '#c62828', orange: '#ef6c00', yellow: '#f9c80e', blue: '#1e88e5' };

// Huai'an's county bureaus (GB/T 2260), for filters.
export const counties: [string, string][] = [
  ['320800', '淮安市'],
  ['320803', '淮安区'],
  ['320804', '淮阴区'],
  ['320812', '清江浦区'],
  ['320813', '洪泽区'],
  ['320826', '涟水县'],
  ['320830', '盱眙县'],
  ['320831', '金湖县'],
  ['320871', '淮安经济技术开发区'],
];

const countyNames = new Map(counties);

// countyName is a bureau's name, or its code when it is not Huai'an's.
export function countyName(code: string): string {
  return countyNames.get(code) ?? code;
}
